/* libcurl and libmicrohttpd loaded at run time (dlopen), only by the commands that use them, so
 * every other command starts without their ~35 dependent libraries. Include this header instead
 * of <curl/curl.h> or <microhttpd.h>: their types and constants are the headers' own, and each
 * function name below stands for a pointer that lazylib_load() fills. */
#ifndef LAZYLIB_H
#define LAZYLIB_H
#include <stddef.h>

#include <curl/curl.h>
#include <microhttpd.h>

enum lazylib_id {
	LAZYLIB_CURL, /* libcurl.so.4 */
	LAZYLIB_MHD,  /* libmicrohttpd.so.12 */
	LAZYLIB_COUNT
};

/* The functions taken from each library: one table per library, append-only. A name added here
 * gets its slot, its type (the library header's declaration) and its lookup at load. */
#define LAZYLIB_CURL_FUNCS(X)                                                                      \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_init)                                                                          \
	X(curl_easy_perform)                                                                       \
	X(curl_easy_recv)                                                                          \
	X(curl_easy_reset)                                                                         \
	X(curl_easy_send)                                                                          \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_strerror)                                                                      \
	X(curl_free)                                                                               \
	X(curl_global_cleanup)                                                                     \
	X(curl_global_init)                                                                        \
	X(curl_multi_add_handle)                                                                   \
	X(curl_multi_cleanup)                                                                      \
	X(curl_multi_info_read)                                                                    \
	X(curl_multi_init)                                                                         \
	X(curl_multi_perform)                                                                      \
	X(curl_multi_poll)                                                                         \
	X(curl_multi_remove_handle)                                                                \
	X(curl_multi_setopt)                                                                       \
	X(curl_multi_wakeup)                                                                       \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)                                                                     \
	X(curl_url)                                                                                \
	X(curl_url_cleanup)                                                                        \
	X(curl_url_get)                                                                            \
	X(curl_url_set)

#define LAZYLIB_MHD_FUNCS(X)                                                                       \
	X(MHD_add_response_header)                                                                 \
	X(MHD_basic_auth_get_username_password)                                                    \
	X(MHD_create_response_from_buffer)                                                         \
	X(MHD_create_response_from_buffer_with_free_callback)                                      \
	X(MHD_create_response_from_callback)                                                       \
	X(MHD_destroy_response)                                                                    \
	X(MHD_free)                                                                                \
	X(MHD_get_connection_values)                                                               \
	X(MHD_lookup_connection_value)                                                             \
	X(MHD_queue_basic_auth_fail_response)                                                      \
	X(MHD_queue_response)                                                                      \
	X(MHD_start_daemon)                                                                        \
	X(MHD_stop_daemon)

/* One pointer per function, typed from the library header's own declaration. */
#define LAZYLIB_SLOT(name) __typeof__(name) *name;
struct lazylib_curl_funcs {
	LAZYLIB_CURL_FUNCS(LAZYLIB_SLOT)
};
struct lazylib_mhd_funcs {
	LAZYLIB_MHD_FUNCS(LAZYLIB_SLOT)
};
#undef LAZYLIB_SLOT
extern struct lazylib_curl_funcs lazylib_curl; /* filled by lazylib_load(LAZYLIB_CURL) */
extern struct lazylib_mhd_funcs lazylib_mhd;   /* filled by lazylib_load(LAZYLIB_MHD) */

/* Makes lazylib_load(id) open path (a file name as dlopen takes it) instead of the default
 * soname, e.g. libcurl-gnutls.so.4, which has the same ABI. Call before the first load; path is
 * borrowed and must outlive the process's use of the library. */
void lazylib_use(enum lazylib_id id, const char *path);

/* The file name lazylib_load(id) opens: the default soname or the one given to lazylib_use(). */
const char *lazylib_name(enum lazylib_id id);

/* Opens library id and resolves every function of its table, once per process; later calls
 * return the first outcome. Thread-safe. Returns 0, or -1 with err set to "NAME: WHY" (the
 * library that cannot be opened, or the function it lacks). The library is never unloaded. */
int lazylib_load(enum lazylib_id id, char *err, size_t errsz);

/* Loads libcurl (lazylib_load) and initialises it: curl_global_init(CURL_GLOBAL_DEFAULT), which
 * libcurl 7.84 and later count and make thread-safe (pair each success with
 * curl_global_cleanup()). Returns 0, or -1 with err set to "needs NAME: WHY" or "cannot
 * initialise libcurl". */
int lazylib_curl_init(char *err, size_t errsz);

/* Each function name from here on calls through its slot. Callers load first: a slot is NULL
 * until lazylib_load() of its library succeeded. */
#ifndef LAZYLIB_NO_NAMES
#undef curl_easy_getinfo /* curl's typecheck-gcc.h macros: they would call the symbols */
#undef curl_easy_setopt
#undef curl_multi_setopt
/* Typed setopt and getinfo. curl's header checks the value given to these variadic functions
 * with macros on the symbols themselves, which a call through a slot loses. Here the option's
 * number gives its kind (curl.h's CURLOPTTYPE_* steps of 10000: long, pointer, function,
 * curl_off_t, blob; CURLINFO_* in the bits 20-23) and _Generic on that number picks a function
 * whose parameter has the kind's type: a value of another kind does not compile, and an int
 * given for a long is converted rather than read as a long by va_arg. The option must be a
 * constant (else the array type is a VLA, refused by -Wvla); a kind without a function here
 * (another callback type, a blob) does not compile: add its function. */
#define LAZYLIB_KIND(n) (char (*)[n])0
static inline CURLcode lazylib_setopt_long(CURL *h, CURLoption o, long v)
{
	return (*lazylib_curl.curl_easy_setopt)(h, o, v);
}
static inline CURLcode lazylib_setopt_ptr(CURL *h, CURLoption o, const void *v)
{
	return (*lazylib_curl.curl_easy_setopt)(h, o, v);
}
/* the only callback kind halog sets: write and header callbacks (read ones share the type) */
static inline CURLcode lazylib_setopt_write(CURL *h, CURLoption o, curl_write_callback v)
{
	return (*lazylib_curl.curl_easy_setopt)(h, o, v);
}
static inline CURLcode lazylib_setopt_off(CURL *h, CURLoption o, curl_off_t v)
{
	return (*lazylib_curl.curl_easy_setopt)(h, o, v);
}
#define curl_easy_setopt(h, opt, v)                                                                \
	_Generic(LAZYLIB_KIND(1 + (opt) / 10000),                                                  \
		char (*)[1]: lazylib_setopt_long,                                                  \
		char (*)[2]: lazylib_setopt_ptr,                                                   \
		char (*)[3]: lazylib_setopt_write,                                                 \
		char (*)[4]: lazylib_setopt_off)(h, opt, v)
static inline CURLMcode lazylib_msetopt_long(CURLM *m, CURLMoption o, long v)
{
	return (*lazylib_curl.curl_multi_setopt)(m, o, v);
}
static inline CURLMcode lazylib_msetopt_ptr(CURLM *m, CURLMoption o, const void *v)
{
	return (*lazylib_curl.curl_multi_setopt)(m, o, v);
}
#define curl_multi_setopt(m, opt, v)                                                               \
	_Generic(LAZYLIB_KIND(1 + (opt) / 10000),                                                  \
		char (*)[1]: lazylib_msetopt_long,                                                 \
		char (*)[2]: lazylib_msetopt_ptr)(m, opt, v)
static inline CURLcode lazylib_getinfo_str(CURL *h, CURLINFO i, char **v)
{
	return (*lazylib_curl.curl_easy_getinfo)(h, i, v);
}
static inline CURLcode lazylib_getinfo_long(CURL *h, CURLINFO i, long *v)
{
	return (*lazylib_curl.curl_easy_getinfo)(h, i, v);
}
static inline CURLcode lazylib_getinfo_socket(CURL *h, CURLINFO i, curl_socket_t *v)
{
	return (*lazylib_curl.curl_easy_getinfo)(h, i, v);
}
static inline CURLcode lazylib_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v)
{
	return (*lazylib_curl.curl_easy_getinfo)(h, i, v);
}
#define curl_easy_getinfo(h, info, v)                                                              \
	_Generic(LAZYLIB_KIND(((info) & CURLINFO_TYPEMASK) >> 20),                                 \
		char (*)[CURLINFO_STRING >> 20]: lazylib_getinfo_str,                              \
		char (*)[CURLINFO_LONG >> 20]: lazylib_getinfo_long,                               \
		char (*)[CURLINFO_SOCKET >> 20]: lazylib_getinfo_socket,                           \
		char (*)[CURLINFO_OFF_T >> 20]: lazylib_getinfo_off)(h, info, v)
#define curl_easy_cleanup (*lazylib_curl.curl_easy_cleanup)
#define curl_easy_init (*lazylib_curl.curl_easy_init)
#define curl_easy_perform (*lazylib_curl.curl_easy_perform)
#define curl_easy_recv (*lazylib_curl.curl_easy_recv)
#define curl_easy_reset (*lazylib_curl.curl_easy_reset)
#define curl_easy_send (*lazylib_curl.curl_easy_send)
#define curl_easy_strerror (*lazylib_curl.curl_easy_strerror)
#define curl_free (*lazylib_curl.curl_free)
#define curl_global_cleanup (*lazylib_curl.curl_global_cleanup)
#define curl_global_init (*lazylib_curl.curl_global_init)
#define curl_multi_add_handle (*lazylib_curl.curl_multi_add_handle)
#define curl_multi_cleanup (*lazylib_curl.curl_multi_cleanup)
#define curl_multi_info_read (*lazylib_curl.curl_multi_info_read)
#define curl_multi_init (*lazylib_curl.curl_multi_init)
#define curl_multi_perform (*lazylib_curl.curl_multi_perform)
#define curl_multi_poll (*lazylib_curl.curl_multi_poll)
#define curl_multi_remove_handle (*lazylib_curl.curl_multi_remove_handle)
#define curl_multi_wakeup (*lazylib_curl.curl_multi_wakeup)
#define curl_slist_append (*lazylib_curl.curl_slist_append)
#define curl_slist_free_all (*lazylib_curl.curl_slist_free_all)
#define curl_url (*lazylib_curl.curl_url)
#define curl_url_cleanup (*lazylib_curl.curl_url_cleanup)
#define curl_url_get (*lazylib_curl.curl_url_get)
#define curl_url_set (*lazylib_curl.curl_url_set)
#define MHD_add_response_header (*lazylib_mhd.MHD_add_response_header)
#define MHD_basic_auth_get_username_password (*lazylib_mhd.MHD_basic_auth_get_username_password)
#define MHD_create_response_from_buffer (*lazylib_mhd.MHD_create_response_from_buffer)
#define MHD_create_response_from_buffer_with_free_callback                                         \
	(*lazylib_mhd.MHD_create_response_from_buffer_with_free_callback)
#define MHD_create_response_from_callback (*lazylib_mhd.MHD_create_response_from_callback)
#define MHD_destroy_response (*lazylib_mhd.MHD_destroy_response)
#define MHD_free (*lazylib_mhd.MHD_free)
#define MHD_get_connection_values (*lazylib_mhd.MHD_get_connection_values)
#define MHD_lookup_connection_value (*lazylib_mhd.MHD_lookup_connection_value)
#define MHD_queue_basic_auth_fail_response (*lazylib_mhd.MHD_queue_basic_auth_fail_response)
#define MHD_queue_response (*lazylib_mhd.MHD_queue_response)
#define MHD_start_daemon (*lazylib_mhd.MHD_start_daemon)
#define MHD_stop_daemon (*lazylib_mhd.MHD_stop_daemon)
#endif

#endif

/* libFuzzer harness: the YAML loader under hagen's limits (aliases, depth, size). Every node
 * it returns must carry a position inside the input. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "yamlnode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct yn_node *n, unsigned depth)
{
	assert(depth <= 70);
	if (n->kind == YN_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			walk(n->items[i], depth + 1);
	} else if (n->kind == YN_MAP) {
		for (size_t i = 0; i < n->n; i++) {
			assert(n->pairs[i].key->kind == YN_SCALAR);
			walk(n->pairs[i].value, depth + 1);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yn_limits lim = { 64, 20000, 1 << 20, 0 };
	struct yn_node *root = NULL;
	struct yn_error err;

	if (yn_load_buffer((const char *)data, size, &lim, &root, &err) == 0) {
		if (root)
			walk(root, 0);
		yn_free(root);
	} else {
		assert(err.msg[0]);
	}
	return 0;
}

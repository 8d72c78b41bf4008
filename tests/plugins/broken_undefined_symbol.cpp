// Links against a symbol nobody provides: dlopen itself fails.
#include <modelgate/abi.h>

extern "C" int modelgate_symbol_that_does_not_exist(int);

static const mg_plugin_descriptor* entry(const mg_host_api*, mg_plugin_handle*) {
    static int n = modelgate_symbol_that_does_not_exist(1);
    (void)n;
    return nullptr;
}
MG_DECLARE_PLUGIN_ENTRY(entry);

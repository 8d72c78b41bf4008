// An entry function that declines to load.
#include <modelgate/abi.h>

static const mg_plugin_descriptor* entry(const mg_host_api*, mg_plugin_handle*) {
    return nullptr;
}
MG_DECLARE_PLUGIN_ENTRY(entry);

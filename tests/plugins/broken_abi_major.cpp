// A plugin built for a future ABI major version: the host must refuse it and say
// which versions disagree.
#include <modelgate/abi.h>

static const mg_plugin_descriptor* entry(const mg_host_api*, mg_plugin_handle*) {
    static mg_plugin_descriptor d = {sizeof(mg_plugin_descriptor),
                                     2,
                                     1,
                                     MG_KIND_PROVIDER,
                                     "future",
                                     "9.0.0",
                                     "From the future",
                                     "[]",
                                     MG_CAP_CHAT,
                                     nullptr,
                                     nullptr};
    return &d;
}
MG_DECLARE_PLUGIN_ENTRY(entry);

// Same major, newer minor than the host: it may use functions the host lacks.
#include <modelgate/abi.h>

static const mg_plugin_descriptor* entry(const mg_host_api*, mg_plugin_handle*) {
    static mg_plugin_descriptor d = {sizeof(mg_plugin_descriptor),
                                     MG_ABI_MAJOR,
                                     MG_ABI_MINOR + 7,
                                     MG_KIND_PROVIDER,
                                     "newer",
                                     "1.0.0",
                                     "Newer minor",
                                     "[]",
                                     MG_CAP_CHAT,
                                     nullptr,
                                     nullptr};
    return &d;
}
MG_DECLARE_PLUGIN_ENTRY(entry);

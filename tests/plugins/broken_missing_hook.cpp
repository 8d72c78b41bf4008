// A provider table with a hole: refused before anything calls through it.
#include <modelgate/abi.h>

static void* create(mg_str, const mg_sink*) {
    return nullptr;
}
static void destroy(void*) {}

static const mg_plugin_descriptor* entry(const mg_host_api*, mg_plugin_handle*) {
    static mg_provider_vtable v = {sizeof(mg_provider_vtable),
                                   &create,
                                   &destroy,
                                   nullptr,
                                   nullptr,
                                   nullptr,
                                   nullptr,
                                   nullptr,
                                   nullptr,
                                   nullptr};
    static mg_plugin_descriptor d = {sizeof(mg_plugin_descriptor),
                                     MG_ABI_MAJOR,
                                     MG_ABI_MINOR,
                                     MG_KIND_PROVIDER,
                                     "holey",
                                     "1.0.0",
                                     "Missing hooks",
                                     "[]",
                                     MG_CAP_CHAT,
                                     &v,
                                     nullptr};
    return &d;
}
MG_DECLARE_PLUGIN_ENTRY(entry);

// An entry function that throws (no SDK barrier): the host catches it.
#include <modelgate/abi.h>

#include <stdexcept>

static const mg_plugin_descriptor* entry(const mg_host_api*, mg_plugin_handle*) {
    throw std::runtime_error("cannot initialise the frobnicator");
}
MG_DECLARE_PLUGIN_ENTRY(entry);

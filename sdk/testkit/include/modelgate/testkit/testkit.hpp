// The plugin conformance kit: GoogleTest tests that load a provider plugin
// through the gateway's own loader (modelgate/host) and check it the way the
// gateway will use it:
//  - the descriptor: ABI, id, version, capabilities, option schema;
//  - golden fixtures: the upstream request built for an OpenAI request, whole
//    answers and errors translated back, streams decoded into the expected
//    events, each stream also split at every byte boundary;
//  - error classification of common HTTP failures;
//  - garbage in (bodies, stream bytes) coming back as errors, never crashes;
//  - repeated create/destroy and stream open/close (run it under ASan).
// Given a feature plugin, it runs init with the schema's defaults on a host
// that records the registrations, and checks them: routes, migrations (order,
// both dialects, names under the plugin's id), jobs and tasks, and the texts
// in <stem>.locales/ against English.
// modelgate-plugin-check is this kit as a command: PATH.so [--fixtures DIR].
#pragma once

#include <string>

namespace modelgate::testkit {

struct Options {
    std::string plugin_path;
    std::string fixtures_dir;  // *.json fixtures; optional
    int create_destroy_rounds = 200;
};

// Registers the conformance tests for one plugin; call before RUN_ALL_TESTS.
void register_conformance_tests(const Options& options);

// Reads "PATH.so [--fixtures DIR] [--rounds N]" after GoogleTest removed its own
// flags. Returns false and sets error on bad arguments.
bool parse_args(int argc, char** argv, Options& out, std::string& error);

}  // namespace modelgate::testkit

// modelgate: parse the configuration, start the App, wait for SIGTERM/SIGINT,
// stop gracefully.
#include <csignal>
#include <iostream>

#include "app/app.hpp"
#include "util/log.hpp"

int main(int argc, char** argv) {
    using namespace modelgate::core;
    Config config;
    ParsedArgs args = load_config(argc, argv, config);
    if (args.help) {
        std::cout << usage_text();
        return 0;
    }
    if (args.version) {
        std::cout << "modelgate " << version_string() << "\n";
        return 0;
    }
    if (!args.error.empty()) {
        std::cerr << "modelgate: " << args.error << "\n";
        return 2;
    }
    // Signals are taken by sigwait below; every thread started from here on
    // inherits the blocked mask. A client that hangs up must not kill us (SIGPIPE).
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    App app(config);
    try {
        app.start();
    } catch (const std::exception& e) {
        std::cerr << "modelgate: cannot start: " << e.what() << "\n";
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
    MG_INFO("app", "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
    app.stop();
    return 0;
}

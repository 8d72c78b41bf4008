// A feature plugin (built with the SDK) whose init registers a route and then
// throws: it must be refused and its route withdrawn.
#include <modelgate/sdk.hpp>

class ThrowingInit : public modelgate::sdk::FeaturePlugin {
  public:
    void init(modelgate::sdk::Host& host, const modelgate::sdk::json&) override {
        host.register_route(
            "GET", "/plugins/throwing", modelgate::sdk::RouteAccess::public_,
            [](const modelgate::sdk::HttpRequest&) { return modelgate::sdk::HttpResponse{}; });
        throw std::runtime_error("database of wisdom not found");
    }
};

MODELGATE_FEATURE_PLUGIN(ThrowingInit, "throwing-init", "1.0.0", "Throws in init", "[]");

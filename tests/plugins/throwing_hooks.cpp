// A provider plugin whose stream decoder and error classifier throw: hooks
// without an error sink, whose message must still reach the gateway's log.
#include <modelgate/openai.hpp>
#include <modelgate/sdk.hpp>
#include <stdexcept>

namespace {

using modelgate::sdk::ErrorInfo;
using modelgate::sdk::EventSink;
using modelgate::sdk::ProviderConfig;

class ExplodingDecoder final : public modelgate::sdk::StreamDecoder {
  public:
    void feed(std::string_view, EventSink&) override {
        throw std::runtime_error("the decoder exploded on purpose");
    }
    void finish(EventSink&) override { throw std::runtime_error("finish exploded too"); }
};

class ThrowingAdapter final : public modelgate::sdk::openai::CompatibleAdapter {
  public:
    explicit ThrowingAdapter(const ProviderConfig& config) : CompatibleAdapter(config, {}) {}
    std::unique_ptr<modelgate::sdk::StreamDecoder> open_stream(
        const modelgate::sdk::Call&) override {
        return std::make_unique<ExplodingDecoder>();
    }
    ErrorInfo classify_error(int, std::string_view, std::string_view) override {
        throw std::runtime_error("the classifier exploded on purpose");
    }
};

}  // namespace

MODELGATE_PROVIDER_PLUGIN(ThrowingAdapter, "throwing_hooks", "1.0.0", "Throws in its hooks",
                          MG_CAP_CHAT | MG_CAP_CHAT_STREAM, "[]");

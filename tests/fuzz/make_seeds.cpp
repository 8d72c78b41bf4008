// adapter_fuzz_seeds FIXTURES_DIR OUT_DIR
//
// Writes adapter_fuzz inputs made from a plugin's conformance fixtures (the
// upstream answers, streams and errors, and the client requests they hold),
// plus a few generic ones, so the fuzzer starts from real traffic of that
// plugin's wire format. FIXTURES_DIR may be missing or empty.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_input.hpp"

namespace {

using modelgate::fuzz::Target;
using nlohmann::json;
namespace fs = std::filesystem;

class SeedWriter {
  public:
    explicit SeedWriter(fs::path dir) : dir_(std::move(dir)) {}

    void add(const std::string& name, Target target, uint8_t variant, std::string_view payload,
             const std::vector<std::size_t>& chunks = {}) {
        std::ofstream out(dir_ / (name + "-" + std::to_string(count_++)), std::ios::binary);
        out << modelgate::fuzz::encode(target, variant, chunks, payload);
    }
    int count() const { return count_; }

  private:
    fs::path dir_;
    int count_ = 0;
};

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// A stream's bytes whole, split once, and in small uneven pieces.
void add_stream(SeedWriter& w, const std::string& name, const std::string& bytes) {
    w.add(name, Target::stream, 0, bytes);
    w.add(name, Target::stream, 0, bytes, {bytes.size() / 2 + 1});
    w.add(name, Target::stream, 0, bytes, {1, 7, 3, 64, 2});
}

void add_fixture(SeedWriter& w, const std::string& name, const json& f) {
    json call = f.value("call", json::object());
    std::string op = call.value("op", "chat");
    bool stream = call.value("stream", false);
    if (call.contains("body")) {
        std::string body =
            call["body"].is_string() ? call["body"].get<std::string>() : call["body"].dump();
        Target t = op == "embeddings" ? Target::build_embeddings
                   : stream           ? Target::build_chat_stream
                                      : Target::build_chat;
        if (op != "list_models") w.add(name, t, 0, body);
    }
    if (!f.contains("upstream") || !f["upstream"].is_object()) return;
    const json& up = f["upstream"];
    std::string body = up.contains("body_json") ? up["body_json"].dump() : up.value("body", "");
    if (up.contains("body_lines") && up["body_lines"].is_array()) {
        for (const auto& line : up["body_lines"]) {
            if (line.is_string()) body += line.get<std::string>();
        }
    }
    if (f.contains("expect_events") || f.contains("expect_text")) {
        add_stream(w, name, body);
        return;
    }
    int status = up.value("status", 200);
    if (f.contains("expect_error")) {
        std::string headers;
        if (up.contains("headers") && up["headers"].is_object()) {
            for (const auto& [k, v] : up["headers"].items()) {
                if (v.is_string()) headers += k + ": " + v.get<std::string>() + "\n";
            }
        }
        w.add(name, Target::classify_error, modelgate::fuzz::variant_for_error_status(status),
              headers + std::string(1, '\0') + body);
    }
    if (status >= 200 && status < 300) {
        Target t = op == "embeddings"    ? Target::parse_embeddings
                   : op == "list_models" ? Target::parse_models
                                         : Target::parse_chat;
        w.add(name, t, 0, body);
    }
}

// Shapes most providers' traffic resembles, for plugins without fixtures.
void add_generic(SeedWriter& w) {
    w.add("generic", Target::parse_chat, 0,
          R"({"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,)"
          R"("message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],)"
          R"("usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}})");
    w.add("generic", Target::parse_embeddings, 0,
          R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1]}],)"
          R"("usage":{"prompt_tokens":1,"total_tokens":1}})");
    w.add("generic", Target::parse_models, 0,
          R"({"object":"list","data":[{"id":"m","object":"model"}],"models":[{"name":"x"}]})");
    add_stream(w, "generic-sse",
               "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"
               "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
               "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\n"
               "data: [DONE]\n\n");
    add_stream(w, "generic-ndjson",
               "{\"message\":{\"content\":\"Hi\"},\"done\":false}\n"
               "{\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\"}\n");
    w.add("generic", Target::classify_error, modelgate::fuzz::variant_for_error_status(429),
          std::string("retry-after: 3\n") + '\0' +
              R"({"error":{"message":"slow down","type":"rate_limit","code":"429"}})");
    w.add("generic", Target::build_chat, 0,
          R"({"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":)"
          R"([{"type":"text","text":"hi"}]}],"temperature":0.5,"max_tokens":8})");
    w.add("generic", Target::build_embeddings, 0, R"({"model":"m","input":["a","b"]})");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: adapter_fuzz_seeds FIXTURES_DIR OUT_DIR\n";
        return 2;
    }
    fs::path out(argv[2]);
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) {
        std::cerr << "adapter_fuzz_seeds: cannot create " << out << ": " << ec.message() << "\n";
        return 1;
    }
    SeedWriter w(out);
    add_generic(w);
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(argv[1], ec)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        json f = json::parse(read_file(file), nullptr, false);
        if (f.is_object()) add_fixture(w, file.stem().string(), f);
    }
    std::cout << w.count() << " seeds from " << files.size() << " fixtures in " << out.string()
              << "\n";
    return 0;
}

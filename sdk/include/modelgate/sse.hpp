// Incremental Server-Sent Events parser for provider stream decoders.
//
// Follows the WHATWG event-stream grammar: lines end in LF, CRLF or CR (also when
// the CR and the LF arrive in different reads), ':' starts a comment, "data"
// lines of one event are joined with '\n', a blank line dispatches the event.
// Two tolerances real upstreams need: a line that is a bare JSON object with no
// field name is treated as one whole data event (some OpenAI-compatible servers
// stream JSON lines), and finish() dispatches an event the upstream did not
// terminate with a blank line.
//
// Header-only, no dependencies beyond the standard library; feed it bytes split
// anywhere. Not thread-safe; one parser per stream.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace modelgate::sdk {

struct SseEvent {
    std::string_view type;  // "message" when the stream named none
    std::string_view data;
    std::string_view id;
};

class SseParser {
  public:
    // An event or a line longer than this puts the parser in the failed state.
    explicit SseParser(std::size_t max_event_bytes = 8u << 20)
        : max_event_bytes_(max_event_bytes) {}

    // Feeds bytes; calls on_event(const SseEvent&) for each complete event.
    // Returns false once the parser has failed (an oversized event); it then
    // ignores further input.
    template <class OnEvent>
    bool feed(std::string_view bytes, OnEvent&& on_event) {
        if (failed_) return false;
        std::size_t i = 0;
        if (skip_lf_ && !bytes.empty()) {
            if (bytes[0] == '\n') i = 1;  // the LF of a CRLF split across reads
            skip_lf_ = false;
        }
        while (i < bytes.size()) {
            std::size_t end = i;
            while (end < bytes.size() && bytes[end] != '\n' && bytes[end] != '\r')
                ++end;
            if (end == bytes.size()) {
                line_.append(bytes.data() + i, end - i);
                if (line_.size() > max_event_bytes_) return fail();
                return true;
            }
            line_.append(bytes.data() + i, end - i);
            if (bytes[end] == '\r') {
                if (end + 1 < bytes.size()) {
                    if (bytes[end + 1] == '\n') ++end;
                } else {
                    skip_lf_ = true;
                }
            }
            i = end + 1;
            if (!process_line(on_event)) return fail();
            line_.clear();
        }
        return true;
    }

    // The stream ended: processes a last unterminated line and dispatches a
    // pending event.
    template <class OnEvent>
    bool finish(OnEvent&& on_event) {
        if (failed_) return false;
        if (!line_.empty()) {
            if (!process_line(on_event)) return fail();
            line_.clear();
        }
        dispatch(on_event);
        return true;
    }

    bool failed() const { return failed_; }

  private:
    template <class OnEvent>
    bool process_line(OnEvent& on_event) {
        std::string_view line = line_;
        if (line.empty()) {
            dispatch(on_event);
            return true;
        }
        if (line.front() == ':') return true;  // comment or keep-alive
        if (line.front() == '{' && !has_data_) {
            // A bare JSON line: one event on its own.
            SseEvent ev{"message", line, last_id_};
            on_event(ev);
            return true;
        }
        std::size_t colon = line.find(':');
        std::string_view field = line.substr(0, colon);
        std::string_view value;
        if (colon != std::string_view::npos) {
            value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        }
        if (field == "data") {
            if (has_data_) data_.push_back('\n');
            data_.append(value);
            has_data_ = true;
            if (data_.size() > max_event_bytes_) return false;
        } else if (field == "event") {
            type_.assign(value);
        } else if (field == "id") {
            if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
        }
        // "retry" and unknown fields are ignored.
        return true;
    }

    template <class OnEvent>
    void dispatch(OnEvent& on_event) {
        if (has_data_) {
            SseEvent ev{type_.empty() ? std::string_view("message") : std::string_view(type_),
                        data_, last_id_};
            on_event(ev);
        }
        data_.clear();
        type_.clear();
        has_data_ = false;
    }

    bool fail() {
        failed_ = true;
        line_.clear();
        data_.clear();
        return false;
    }

    std::size_t max_event_bytes_;
    std::string line_;
    std::string data_;
    std::string type_;
    std::string last_id_;
    bool has_data_ = false;
    bool skip_lf_ = false;
    bool failed_ = false;
};

}  // namespace modelgate::sdk

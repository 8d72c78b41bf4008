#include "http/request_parser.hpp"

#include <algorithm>
#include <cstring>

namespace modelgate::core::http {

namespace {

bool is_tchar(unsigned char c) {
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ows(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back()))
        s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

// Calls fn for each element of a comma-separated header list, trimmed, empty
// elements skipped (RFC 9110 5.6.1).
template <class Fn>
void for_each_element(std::string_view list, Fn&& fn) {
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        std::string_view item = trim_ows(list.substr(0, comma));
        if (!item.empty()) fn(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Strips the line's CR. False when a CR appears anywhere else (bare CR).
bool strip_cr(std::string_view& line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line.find('\r') == std::string_view::npos;
}

}  // namespace

void RequestParser::reset() {
    state_ = State::head;
    head_ = RequestHead{};
    error_ = ParseError{};
    head_buf_.clear();
    if (head_buf_.capacity() > 4096) head_buf_.shrink_to_fit();
    scan_from_ = 0;
    body_ = std::string();
    body_limit_ = 0;
    body_received_ = 0;
    remaining_ = 0;
    line_.clear();
    trailer_bytes_ = 0;
    discard_ = false;
}

RequestParser::Progress RequestParser::fail(std::size_t consumed, int status, std::string message,
                                            std::string code) {
    state_ = State::failed;
    error_ = ParseError{status, std::move(message), std::move(code)};
    return {Event::error, consumed};
}

bool RequestParser::add_body(std::string_view bytes) {
    body_received_ += bytes.size();
    if (discard_) return true;
    if (body_received_ > body_limit_) return false;
    if (body_.empty() && head_.content_length)
        body_.reserve(
            static_cast<std::size_t>(std::min<uint64_t>(*head_.content_length, body_limit_)));
    body_.append(bytes);
    return true;
}

RequestParser::Progress RequestParser::feed(std::string_view data) {
    std::size_t pos = 0;
    for (;;) {
        switch (state_) {
            case State::failed:
                return {Event::error, pos};
            case State::done:
                return {Event::complete, pos};

            case State::head: {
                // Empty lines before a request line are ignored (RFC 9112 2.2).
                while (head_buf_.empty() && pos < data.size() &&
                       (data[pos] == '\r' || data[pos] == '\n'))
                    ++pos;
                if (pos == data.size()) return {Event::need_more, pos};
                std::size_t before = head_buf_.size();
                std::size_t room = limits_.max_head_bytes + 4 - before;
                std::size_t take = std::min(room, data.size() - pos);
                head_buf_.append(data.substr(pos, take));
                // The head ends with an empty line: "\n\n" or "\n\r\n".
                std::size_t end = std::string::npos;
                for (std::size_t i = scan_from_; i < head_buf_.size(); ++i) {
                    if (head_buf_[i] != '\n') continue;
                    if (i + 1 < head_buf_.size() && head_buf_[i + 1] == '\n') {
                        end = i + 2;
                        break;
                    }
                    if (i + 2 < head_buf_.size() && head_buf_[i + 1] == '\r' &&
                        head_buf_[i + 2] == '\n') {
                        end = i + 3;
                        break;
                    }
                }
                if (end == std::string::npos) {
                    if (head_buf_.size() > limits_.max_head_bytes) {
                        return fail(pos + take, 431,
                                    "The request head is larger than " +
                                        std::to_string(limits_.max_head_bytes) + " bytes.",
                                    "request_header_too_large");
                    }
                    scan_from_ = head_buf_.size() >= 2 ? head_buf_.size() - 2 : 0;
                    return {Event::need_more, pos + take};
                }
                pos += end - before;
                head_buf_.resize(end);
                if (!parse_head(std::string_view(head_buf_))) return {Event::error, pos};
                head_buf_.clear();
                if (head_.chunked) {
                    state_ = State::chunk_line;
                } else {
                    state_ = State::body_length;
                    remaining_ = head_.content_length.value_or(0);
                }
                return {Event::head, pos};
            }

            case State::body_length: {
                if (!discard_ && head_.content_length.value_or(0) > body_limit_) {
                    return fail(pos, 413, "The request body is larger than the limit.",
                                "request_too_large");
                }
                std::size_t n =
                    static_cast<std::size_t>(std::min<uint64_t>(remaining_, data.size() - pos));
                add_body(data.substr(pos, n));
                pos += n;
                remaining_ -= n;
                if (remaining_ > 0) return {Event::need_more, pos};
                state_ = State::done;
                break;
            }

            case State::chunk_line:
            case State::chunk_data_end:
            case State::trailers: {
                if (pos == data.size()) return {Event::need_more, pos};
                std::size_t nl = data.find('\n', pos);
                std::size_t n = (nl == std::string_view::npos ? data.size() : nl + 1) - pos;
                std::size_t bound = state_ == State::trailers     ? limits_.max_trailer_bytes
                                    : state_ == State::chunk_line ? limits_.max_chunk_line_bytes
                                                                  : 2;
                if (line_.size() + n > bound) {
                    return fail(pos + n, 400,
                                state_ == State::trailers
                                    ? "The chunked body's trailer is too large."
                                : state_ == State::chunk_line
                                    ? "A chunk-size line of the chunked body is too long."
                                    : "A chunk of the chunked body is longer than its size.",
                                "invalid_chunked_body");
                }
                line_.append(data.substr(pos, n));
                pos += n;
                if (line_.back() != '\n') return {Event::need_more, pos};
                std::string_view line(line_);
                line.remove_suffix(1);
                if (!strip_cr(line)) {
                    return fail(pos, 400, "A bare CR in the chunked body framing.",
                                "invalid_chunked_body");
                }
                if (state_ == State::chunk_data_end) {
                    if (!line.empty())
                        return fail(pos, 400,
                                    "A chunk of the chunked body is longer than its size.",
                                    "invalid_chunked_body");
                    line_.clear();
                    state_ = State::chunk_line;
                    break;
                }
                if (state_ == State::trailers) {
                    trailer_bytes_ += line_.size();
                    if (trailer_bytes_ > limits_.max_trailer_bytes)
                        return fail(pos, 400, "The chunked body's trailer is too large.",
                                    "invalid_chunked_body");
                    line_.clear();
                    if (line.empty()) state_ = State::done;
                    break;
                }
                // chunk-size [ BWS ";" chunk-ext ]
                uint64_t size = 0;
                std::size_t digits = 0;
                while (digits < line.size() && hex_value(line[digits]) >= 0) {
                    if (digits == 16)
                        return fail(pos, 413, "A chunk of the request body is too large.",
                                    "request_too_large");
                    size = size * 16 + static_cast<uint64_t>(hex_value(line[digits]));
                    ++digits;
                }
                std::string_view rest = trim_ows(line.substr(digits));
                if (digits == 0 || (!rest.empty() && rest.front() != ';')) {
                    return fail(pos, 400, "A chunk size of the chunked body is not hexadecimal.",
                                "invalid_chunked_body");
                }
                line_.clear();
                if (size == 0) {
                    state_ = State::trailers;
                    break;
                }
                if (!discard_ && body_received_ + size > body_limit_) {
                    return fail(pos, 413,
                                "The request body is larger than the limit of " +
                                    std::to_string(body_limit_) + " bytes.",
                                "request_too_large");
                }
                remaining_ = size;
                state_ = State::chunk_data;
                break;
            }

            case State::chunk_data: {
                if (pos == data.size()) return {Event::need_more, pos};
                std::size_t n =
                    static_cast<std::size_t>(std::min<uint64_t>(remaining_, data.size() - pos));
                if (!add_body(data.substr(pos, n)))
                    return fail(pos, 413, "The request body is larger than the limit.",
                                "request_too_large");
                pos += n;
                remaining_ -= n;
                if (remaining_ == 0) state_ = State::chunk_data_end;
                break;
            }
        }
    }
}

bool RequestParser::parse_head(std::string_view text) {
    bool first = true;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (!strip_cr(line)) {
            fail(0, 400, "A bare CR in the request head.", "invalid_http_request");
            return false;
        }
        if (line.empty()) break;  // the end of the head
        if (first) {
            if (!parse_request_line(line)) return false;
            first = false;
        } else if (!parse_field(line)) {
            return false;
        }
    }
    if (first) {
        fail(0, 400, "The request has no request line.", "invalid_http_request");
        return false;
    }
    return finish_head();
}

bool RequestParser::parse_request_line(std::string_view line) {
    std::size_t sp1 = line.find(' ');
    std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        fail(0, 400, "Malformed request line.", "invalid_http_request");
        return false;
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (method.empty() || method.size() > 32 ||
        !std::all_of(method.begin(), method.end(),
                     [](char c) { return is_tchar(static_cast<unsigned char>(c)); })) {
        fail(0, 400, "Malformed request method.", "invalid_http_request");
        return false;
    }
    if (target.size() > limits_.max_target_bytes) {
        fail(0, 414,
             "The request target is longer than " + std::to_string(limits_.max_target_bytes) +
                 " bytes.",
             "uri_too_long");
        return false;
    }
    if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) {
            auto u = static_cast<unsigned char>(c);
            return u > 0x20 && u < 0x7f;
        })) {
        fail(0, 400, "Malformed request target.", "invalid_http_request");
        return false;
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
        fail(0, 400, "Malformed HTTP version.", "invalid_http_request");
        return false;
    }
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
        fail(0, 505, "Only HTTP/1.0 and HTTP/1.1 are supported.", "http_version_not_supported");
        return false;
    }
    head_.method.assign(method);
    head_.target.assign(target);
    head_.version_minor = version[7] - '0';
    return true;
}

bool RequestParser::parse_field(std::string_view line) {
    if (is_ows(line.front())) {
        fail(0, 400, "Obsolete line folding in a header field.", "invalid_http_request");
        return false;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        fail(0, 400, "Malformed header field.", "invalid_http_request");
        return false;
    }
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
        if (is_tchar(static_cast<unsigned char>(c))) continue;
        fail(0, 400,
             is_ows(c) ? "White space between a header field name and its colon."
                       : "Malformed header field name.",
             "invalid_http_request");
        return false;
    }
    std::string_view value = trim_ows(line.substr(colon + 1));
    for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if (u == '\t' || (u >= 0x20 && u != 0x7f)) continue;
        fail(0, 400, "A control character in a header field value.", "invalid_http_request");
        return false;
    }
    if (head_.headers.size() >= limits_.max_headers) {
        fail(0, 431,
             "The request has more than " + std::to_string(limits_.max_headers) + " header fields.",
             "request_header_too_large");
        return false;
    }
    std::string lower_name(name);
    for (char& c : lower_name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    head_.headers.emplace_back(std::move(lower_name), std::string(value));
    return true;
}

bool RequestParser::finish_head() {
    std::optional<uint64_t> length;
    bool length_too_large = false, length_bad = false, length_conflict = false;
    std::vector<std::string_view> codings;
    int hosts = 0;
    bool close = false, keep_alive = false;
    std::string_view expect;
    bool expect_seen = false;
    for (const auto& [name, value] : head_.headers) {
        if (name == "content-length") {
            if (value.empty()) length_bad = true;
            for_each_element(value, [&](std::string_view item) {
                uint64_t v = 0;
                for (char c : item) {
                    if (c < '0' || c > '9') {
                        length_bad = true;
                        return;
                    }
                    if (v > (UINT64_MAX - 9) / 10) {
                        length_too_large = true;
                        return;
                    }
                    v = v * 10 + static_cast<uint64_t>(c - '0');
                }
                if (length && *length != v) length_conflict = true;
                length = v;
            });
        } else if (name == "transfer-encoding") {
            for_each_element(value, [&](std::string_view item) { codings.push_back(item); });
            if (value.empty()) codings.emplace_back();
        } else if (name == "host") {
            ++hosts;
        } else if (name == "connection") {
            for_each_element(value, [&](std::string_view item) {
                if (iequals(item, "close")) close = true;
                if (iequals(item, "keep-alive")) keep_alive = true;
            });
        } else if (name == "expect") {
            expect_seen = true;
            expect = value;
        }
    }
    if (length_bad) {
        fail(0, 400, "Content-Length must be a non-negative decimal number.",
             "invalid_content_length");
        return false;
    }
    if (length_conflict) {
        fail(0, 400, "The request has several different Content-Length values.",
             "invalid_content_length");
        return false;
    }
    if (length_too_large) {
        fail(0, 413, "The declared Content-Length is too large.", "request_too_large");
        return false;
    }
    if (!codings.empty()) {
        if (head_.version_minor == 0) {
            fail(0, 400, "Transfer-Encoding is not allowed in an HTTP/1.0 request.",
                 "invalid_http_framing");
            return false;
        }
        if (length) {
            fail(0, 400, "A request may not have both Content-Length and Transfer-Encoding.",
                 "invalid_http_framing");
            return false;
        }
        if (!iequals(codings.back(), "chunked")) {
            fail(0, 400, "The last transfer coding of a request must be chunked.",
                 "invalid_http_framing");
            return false;
        }
        if (codings.size() > 1) {
            fail(0, 501, "Only the chunked transfer coding is supported.",
                 "unsupported_transfer_encoding");
            return false;
        }
        head_.chunked = true;
    }
    head_.content_length = length;
    if (head_.version_minor == 1 && hosts != 1) {
        fail(0, 400,
             hosts == 0 ? "An HTTP/1.1 request needs a Host header."
                        : "The request has several Host headers.",
             "invalid_http_request");
        return false;
    }
    head_.keep_alive = head_.version_minor == 1 ? !close : (keep_alive && !close);
    if (expect_seen) {
        if (!iequals(expect, "100-continue")) {
            fail(0, 417, "Only 'Expect: 100-continue' is supported.", "expectation_failed");
            return false;
        }
        head_.expect_continue = head_.version_minor == 1;
    }
    return true;
}

}  // namespace modelgate::core::http

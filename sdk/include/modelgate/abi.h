/*
 * ModelGate plugin ABI, version 1.3 (1.1 added the caller's API key to
 * mg_http_request; 1.2 the base path there, and the host services for
 * migrations, transactions, daily jobs, LLM calls with options, sealed secrets
 * and a data folder, and one-shot background tasks; 1.3 reads of the admin
 * API, streamed responses and asynchronous outbound HTTP).
 *
 * This is the whole binary contract between the gateway ("host") and a plugin
 * shared library. It is plain C so that a plugin may be built with another
 * compiler, another C++ standard library or another release cycle than the host.
 *
 * Rules that keep the contract stable:
 *  - Only fixed-width integers, pointers to the structs below and (pointer, length)
 *    UTF-8 buffers cross the boundary. No exception may cross it.
 *  - Every versioned struct starts with `struct_size` (the sizeof() the writer was
 *    built with). Structs only ever grow at the end; a reader checks struct_size
 *    before touching a field added later (MG_HAS_FIELD).
 *  - The first three fields of mg_plugin_descriptor and the entry function's
 *    signature never change, so a host can always read which ABI a plugin was built
 *    for and refuse it precisely ("built for ABI 2.1, host is 1.4").
 *  - A host of ABI major M and minor N loads plugins of major M and minor <= N.
 *
 * Ownership, stated once for the whole header:
 *  - mg_str values handed to a plugin are borrowed; they are valid only for the
 *    duration of the call that received them.
 *  - An mg_sink belongs to whoever passes it: the receiver appends output to it
 *    through sink->append, only during the call that received it, and never
 *    keeps it. Hooks the host calls get host sinks; host services a plugin calls
 *    get plugin sinks.
 *  - Strings inside mg_plugin_descriptor are owned by the plugin and must stay
 *    valid while the library is loaded (string literals are the usual choice).
 *  - Instances and stream decoders created by a plugin are owned by the host until
 *    it hands them back to the matching destroy/close function, exactly once.
 *
 * Threading: the host may call one adapter instance from several threads at once
 * (build_request, parse_response, classify_error, stream_open must be reentrant);
 * a single stream decoder is only ever used by one thread at a time.
 */
#ifndef MODELGATE_ABI_H
#define MODELGATE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MG_ABI_MAJOR 1
#define MG_ABI_MINOR 3

/* Name of the one exported entry symbol. The symbol is a pointer-sized variable
 * holding the address of an mg_plugin_entry_fn (this is what BOOST_DLL_ALIAS
 * emits; MG_DECLARE_PLUGIN_ENTRY below does the same without Boost). */
#define MG_ENTRY_SYMBOL "modelgate_plugin_entry"

/* True when a struct written with `s->struct_size` contains `field`. */
#define MG_HAS_FIELD(s, type, field) \
    ((s)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* A borrowed UTF-8 byte range; not NUL-terminated unless stated. */
typedef struct mg_str {
    const char* data;
    uint64_t len;
} mg_str;

/* An output byte sink owned by the caller. append may be called any number of
 * times; the bytes are concatenated. Frozen layout (it never grows). */
typedef struct mg_sink {
    void* ctx;
    void (*append)(void* ctx, const char* data, uint64_t len);
} mg_sink;

/* Return codes of plugin hooks. */
typedef enum mg_status {
    MG_OK = 0,
    MG_ERR_INVALID = 1,     /* the input (request, config) is not acceptable; err says why */
    MG_ERR_UNSUPPORTED = 2, /* this adapter does not support the operation */
    MG_ERR_INTERNAL = 3,    /* a bug or an exception inside the plugin; err says what */
    MG_ERR_UPSTREAM = 4,    /* parse_response: the upstream's 2xx answer is an error in
                               disguise; the host classifies it with classify_error */
    MG_ERR_CONFLICT = 5,    /* ABI 1.2, task_start: such a task is already running */
    MG_ERR_BUSY = 6,        /* ABI 1.3, stream_write: too much not yet sent; write later */
    MG_ERR_GONE = 7         /* ABI 1.3, stream_write: the client left or the stream ended */
} mg_status;

typedef enum mg_log_level {
    MG_LOG_DEBUG = 0,
    MG_LOG_INFO = 1,
    MG_LOG_WARN = 2,
    MG_LOG_ERROR = 3
} mg_log_level;

typedef enum mg_plugin_kind { MG_KIND_PROVIDER = 1, MG_KIND_FEATURE = 2 } mg_plugin_kind;

/* Capability bits of a provider adapter. */
#define MG_CAP_CHAT ((uint64_t)1 << 0)
#define MG_CAP_CHAT_STREAM ((uint64_t)1 << 1)
#define MG_CAP_EMBEDDINGS ((uint64_t)1 << 2)
#define MG_CAP_LIST_MODELS ((uint64_t)1 << 3)

/* ------------------------------------------------------------------------- */
/* Host services, passed to the entry function. Valid while the library is   */
/* loaded.                                                                    */
/* ------------------------------------------------------------------------- */

/* Opaque per-plugin handle: identifies the calling plugin to host services. */
typedef struct mg_plugin_handle mg_plugin_handle;

/* An HTTP request routed to a feature plugin. All fields borrowed for the call. */
typedef struct mg_http_request {
    uint32_t struct_size;
    mg_str method;  /* "GET", "POST", ... */
    mg_str path;    /* path without the base path and without the query */
    mg_str query;   /* raw query string without '?' */
    mg_str headers; /* "name: value\n" lines, names lower-cased */
    mg_str body;
    mg_str client_ip;
    mg_str admin_user; /* non-empty when the caller holds an admin session */
    /* ABI 1.1: the caller's gateway API key on MG_ROUTE_API_KEY routes (checked by
     * the host like /v1: known, switched on, inside its time rules); 0 and empty
     * on other routes. */
    int64_t api_key_id;
    mg_str api_key_name;
    /* ABI 1.2: the gateway's base path ("" or e.g. "/modelgate"), for links a
     * plugin writes into its answers; `path` never carries it. */
    mg_str base_path;
    /* ABI 1.3: the host's handle of this call, for stream_open. */
    void* host_call;
} mg_http_request;

/* The response a feature route fills. The sinks are the host's. */
typedef struct mg_http_response {
    uint32_t struct_size;
    int32_t status;              /* defaults to 200 */
    const mg_sink* content_type; /* defaults to application/json */
    const mg_sink* headers;      /* extra "name: value\n" lines */
    const mg_sink* body;
} mg_http_response;

/* Access a feature route requires. */
typedef enum mg_route_access {
    MG_ROUTE_PUBLIC = 0, /* anyone */
    MG_ROUTE_ADMIN = 1,  /* a valid admin session (the host answers 401 otherwise) */
    MG_ROUTE_API_KEY = 2 /* a valid gateway API key in Authorization: Bearer, inside its
                            time rules (the host answers 401/403 otherwise) */
} mg_route_access;

typedef int32_t (*mg_route_fn)(void* user, const mg_http_request* request,
                               mg_http_response* response);
typedef int32_t (*mg_job_fn)(void* user, const mg_sink* summary);
/* ABI 1.3: a streamed response (stream_open), the host's until stream_close. */
typedef struct mg_stream mg_stream;
/* ABI 1.3: the end of an outbound request (http_fetch). status is the HTTP
 * status, or 0 when no answer came and error says why ("timeout", "connect
 * failed: ...", "too large", "cancelled"); headers are "name: value\n" lines,
 * names lower-cased. All borrowed for the call. */
typedef void (*mg_fetch_fn)(void* user, int32_t status, mg_str headers, mg_str body, mg_str error);
/* ABI 1.2: the body of a background task. Writes its result (JSON) to result_json
 * and returns MG_OK, or returns an error status with the reason in err. */
typedef int32_t (*mg_task_fn)(void* user, int64_t task_id, mg_str input_json,
                              const mg_sink* result_json, const mg_sink* err);

typedef struct mg_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    mg_str host_version; /* the gateway's version string */

    /* Write a line to the gateway log, attributed to the plugin. */
    void (*log)(mg_plugin_handle* self, int32_t level, mg_str message);

    /* ---- feature plugin services (valid after init, on any thread) ---- */

    /* Serve `method` requests whose path starts with `path_prefix` (which must
     * start with '/'). Handlers run on the host's worker pool, never on a network
     * thread, and may block. Returns MG_OK or MG_ERR_INVALID (prefix taken). */
    int32_t (*register_route)(mg_plugin_handle* self, mg_str method, mg_str path_prefix,
                              int32_t access, mg_route_fn fn, void* user);

    /* Run one parameterised SQL statement on the gateway's database. `sql` uses
     * positional placeholders :1, :2, ...; `params_json` is a JSON array of
     * scalars (string, number, bool, null) bound in order. Result rows are written
     * to rows_json as a JSON array of objects. On failure returns MG_ERR_INVALID
     * and writes the reason to err. May block: call it from routes and jobs. */
    int32_t (*sql)(mg_plugin_handle* self, mg_str sql, mg_str params_json, const mg_sink* rows_json,
                   const mg_sink* err);

    /* The SQL dialect of the gateway's database: "postgresql" or "sqlite". */
    mg_str (*sql_dialect)(mg_plugin_handle* self);

    /* Run fn every interval_seconds (>= 1), on the worker pool, once across all
     * gateway instances sharing a database. */
    int32_t (*register_job)(mg_plugin_handle* self, mg_str name, int64_t interval_seconds,
                            mg_job_fn fn, void* user);

    /* Make a non-streaming chat completion through the normal proxy pipeline
     * (routing, concurrency limits, logging). request_json is an OpenAI chat
     * request whose model is "provider/model". Blocks until the answer; writes the
     * OpenAI response to response_json and returns the HTTP status, or a negative
     * value with err set when the call could not be made. */
    int32_t (*llm_call)(mg_plugin_handle* self, mg_str request_json, const mg_sink* response_json,
                        const mg_sink* err);

    /* Look up a translated string in locales/<locale>.json, falling back to
     * English, then to the key itself. */
    void (*i18n)(mg_plugin_handle* self, mg_str locale, mg_str key, const mg_sink* out);

    /* ---- ABI 1.2 (check with MG_HAS_FIELD before calling) ---- */

    /* Bring the plugin's tables up to date. migrations_json is a JSON array of
     * {"version": 1, "name": "...", "postgresql": "SQL", "sqlite": "SQL"} with
     * versions 1, 2, 3, ... in order; each script may hold several statements
     * separated by ';'. The versions the database has not recorded for this
     * plugin are applied in order, each in one transaction together with its
     * record, once across all instances. The tables, indexes and views they
     * create, alter or drop must be named <id>_... (the plugin id with '-' as
     * '_'). Only during init. MG_ERR_INVALID with err set on any failure (the
     * failing version and everything after it are not applied). */
    int32_t (*migrate)(mg_plugin_handle* self, mg_str migrations_json, const mg_sink* err);

    /* Run statements in one transaction: statements_json is a JSON array of
     * {"sql": "...", "params": [...]} (placeholders :1, :2, ... as for sql).
     * results_json gets a JSON array with one {"columns": ["name", ...],
     * "rows": [[value, ...], ...]} per statement, values typed as the database
     * typed them (integer, real, text, null). Any failure rolls everything back
     * and returns MG_ERR_INVALID with err set. May block. */
    int32_t (*sql_transaction)(mg_plugin_handle* self, mg_str statements_json,
                               const mg_sink* results_json, const mg_sink* err);

    /* Run fn every day at at_hh_mm ("HH:MM") in the gateway's time zone, on the
     * worker pool, once across all instances. Only during init. */
    int32_t (*register_daily_job)(mg_plugin_handle* self, mg_str name, mg_str at_hh_mm,
                                  mg_job_fn fn, void* user);

    /* llm_call with options_json: {"models": ["provider/model", ...]} tried in
     * order until one answers 2xx (default: the request's own model),
     * "timeout_ms" for all attempts together (default 120000, at most 600000),
     * "api_key_id" to log the call as that key's (default: "internal:<id>").
     * Returns the last attempt's status and answer; err lists every failed
     * attempt. A negative status: no attempt got an answer (err says why). */
    int32_t (*llm_call_ex)(mg_plugin_handle* self, mg_str request_json, mg_str options_json,
                           const mg_sink* response_json, const mg_sink* err);

    /* Seal a secret with the gateway's master key (authenticated encryption), and
     * open it again. open returns MG_ERR_INVALID when the text was not sealed
     * with this master key or was altered. */
    int32_t (*seal)(mg_plugin_handle* self, mg_str plain, const mg_sink* sealed);
    int32_t (*open_sealed)(mg_plugin_handle* self, mg_str sealed, const mg_sink* plain);

    /* The plugin's own folder for generated files (<data dir>/plugins/<id>),
     * created on first use; NUL-terminated, valid while the library is loaded. */
    mg_str (*data_dir)(mg_plugin_handle* self);

    /* One-shot background tasks. A task kind is registered during init; each
     * start runs fn once, on a pool of its own (never a reactor, never the
     * request workers), with the input given. A task is a JSON object {"id",
     * "plugin", "kind", "key", "status": "running"|"succeeded"|"failed"|
     * "abandoned", "input", "progress", "result", "error", "created_at",
     * "finished_at"}, kept in the database so every instance (and the admin API,
     * GET /admin/api/plugins/<id>/tasks) can read it.
     * task_start: at most one task of a kind and dedupe_key runs at a time across
     * all instances: MG_OK and the new task in task_json, or MG_ERR_CONFLICT and
     * the running one. A task whose instance stops is marked abandoned.
     * task_progress: replaces the task's progress object (call it as the work
     * advances; it also tells other instances the task is alive).
     * task_get: MG_ERR_INVALID when the plugin has no task with that id.
     * task_list: the newest `limit` (1 to 200) tasks of a kind, newest first. */
    int32_t (*register_task_kind)(mg_plugin_handle* self, mg_str kind, mg_task_fn fn, void* user);
    int32_t (*task_start)(mg_plugin_handle* self, mg_str kind, mg_str dedupe_key, mg_str input_json,
                          const mg_sink* task_json, const mg_sink* err);
    int32_t (*task_progress)(mg_plugin_handle* self, int64_t task_id, mg_str progress_json);
    int32_t (*task_get)(mg_plugin_handle* self, int64_t task_id, const mg_sink* task_json);
    int32_t (*task_list)(mg_plugin_handle* self, mg_str kind, int32_t limit,
                         const mg_sink* tasks_json);

    /* ---- ABI 1.3 ---- */

    /* Read the gateway's admin JSON API (docs/admin-api.md) as this plugin,
     * in-process and without a session: a GET of `target`, a path below the
     * base path with its query ("/admin/api/keys/5/recommendations?period=day").
     * Writes the JSON body to body_json and returns the HTTP status (404 for a
     * path no GET route serves). May block: routes, jobs and tasks only. */
    int32_t (*api_get)(mg_plugin_handle* self, mg_str target, const mg_sink* body_json);

    /* Answer a route call with a stream instead of its response: the host sends
     * the status, the content type ("text/event-stream" for Server-Sent Events)
     * and the extra "name: value\n" header lines at once, then the bytes written,
     * chunked on HTTP/1.1; the route's own response is ignored. Only while the
     * route runs, once per call (NULL otherwise). The stream may be written from
     * any thread until stream_close, which the plugin calls exactly once, also
     * after the client left. */
    mg_stream* (*stream_open)(mg_plugin_handle* self, const mg_http_request* request,
                              int32_t status, mg_str content_type, mg_str headers);
    /* MG_OK (queued), MG_ERR_BUSY (more than 4 MiB not yet sent: a slow client;
     * write later) or MG_ERR_GONE (the client left, the stream ended or the
     * gateway is stopping). Never blocks. */
    int32_t (*stream_write)(mg_plugin_handle* self, mg_stream* stream, mg_str bytes);
    /* Ends the response and releases the stream. */
    void (*stream_close)(mg_plugin_handle* self, mg_stream* stream);

    /* Outbound HTTP(S) on the gateway's libcurl loop, asynchronous. request_json:
     * {"method": "GET", "url": "http(s)://...", "headers": {"name": "value"},
     * "body": "...", "timeout_ms": 30000 (the whole exchange, at most 600000),
     * "connect_timeout_ms": 10000, "max_response_bytes": 8388608 (at most 64 MiB)}.
     * Returns MG_OK and calls done exactly once, later, on a host thread kept for
     * these callbacks (never a network thread; keep done short, never wait in it
     * for another fetch, and start a task for long work), or returns
     * MG_ERR_INVALID with err set and never calls done. Requests still
     * running when the gateway stops end with status 0 and "cancelled". */
    int32_t (*http_fetch)(mg_plugin_handle* self, mg_str request_json, mg_fetch_fn done, void* user,
                          const mg_sink* err);
} mg_host_api;

/* ------------------------------------------------------------------------- */
/* Provider adapters: pure transformations, no I/O.                           */
/* ------------------------------------------------------------------------- */

typedef enum mg_operation {
    MG_OP_CHAT = 1,
    MG_OP_EMBEDDINGS = 2,
    MG_OP_LIST_MODELS = 3
} mg_operation;

/* Where the core puts the provider's upstream secret in the outgoing request. */
typedef enum mg_secret_placement {
    MG_SECRET_NONE = 0,   /* not sent */
    MG_SECRET_BEARER = 1, /* Authorization: Bearer <secret> */
    MG_SECRET_HEADER = 2  /* <secret_header>: <secret> */
} mg_secret_placement;

/* What the core asks an adapter to translate. All fields borrowed. */
typedef struct mg_call {
    uint32_t struct_size;
    int32_t op;     /* mg_operation */
    int32_t stream; /* 1 when the client asked for a stream (chat only) */
    mg_str model;   /* the upstream model name; already written into body.model */
    mg_str body;    /* OpenAI-shaped JSON request as the core normalized it; empty for
                       MG_OP_LIST_MODELS */
} mg_call;

/* The upstream HTTP request an adapter builds. The sinks are the host's and empty
 * on entry; secret_placement is MG_SECRET_BEARER on entry. */
typedef struct mg_upstream_request {
    uint32_t struct_size;
    const mg_sink* method;  /* e.g. "POST" */
    const mg_sink* url;     /* absolute URL */
    const mg_sink* headers; /* "Name: value\n" lines; never the secret itself */
    const mg_sink* body;
    int32_t secret_placement;
    const mg_sink* secret_header; /* header name when secret_placement == MG_SECRET_HEADER */
    int32_t stream;               /* out: 1 when the answer is a stream for stream_feed */
} mg_upstream_request;

/* Error classes an adapter assigns to an upstream failure. */
typedef enum mg_error_class {
    MG_ERRCLASS_UPSTREAM = 0, /* any other upstream failure */
    MG_ERRCLASS_INVALID_REQUEST = 1,
    MG_ERRCLASS_AUTH = 2, /* the upstream refused the provider's secret */
    MG_ERRCLASS_PERMISSION = 3,
    MG_ERRCLASS_NOT_FOUND = 4,
    MG_ERRCLASS_RATE_LIMITED = 5, /* retry after retry_after_ms */
    MG_ERRCLASS_QUOTA = 6,        /* quota exhausted until reset_at_unix_ms (0: unknown) */
    MG_ERRCLASS_RETRYABLE = 7     /* overloaded or transient server error */
} mg_error_class;

typedef struct mg_error_info {
    uint32_t struct_size;
    int32_t error_class;       /* mg_error_class */
    int64_t retry_after_ms;    /* 0 when unknown */
    int64_t reset_at_unix_ms;  /* 0 when unknown */
    const mg_sink* error_json; /* OpenAI error object {"message","type","code"} */
} mg_error_info;

/* Events a stream decoder emits, in order. */
typedef enum mg_event_kind {
    MG_EVENT_CHUNK = 1, /* data: a chat.completion.chunk JSON object for the client */
    MG_EVENT_USAGE = 2, /* data: the usage JSON object reported by the upstream */
    MG_EVENT_DONE = 3,  /* the upstream finished the answer cleanly; no data */
    MG_EVENT_ERROR = 4, /* data: an OpenAI error object; the answer is broken */
    MG_EVENT_TEXT = 5   /* data: generated text (content, reasoning, tool arguments),
                           used to estimate tokens when no usage arrives */
} mg_event_kind;

/* Flag for MG_EVENT_CHUNK: the chunk only carries usage (empty choices). The core
 * forwards it only to clients that asked for stream_options.include_usage. */
#define MG_CHUNK_USAGE_ONLY ((uint32_t)1)

typedef struct mg_event_sink {
    uint32_t struct_size;
    void* ctx;
    /* data is borrowed for the duration of the call */
    void (*emit)(void* ctx, int32_t kind, uint32_t flags, const char* data, uint64_t len);
} mg_event_sink;

typedef struct mg_provider_vtable {
    uint32_t struct_size;

    /* Create an adapter for one configured provider. config_json is
     * {"name": "...", "base_url": "...", "options": {...}}. Returns NULL and writes
     * the reason to err when the configuration is unusable. */
    void* (*create)(mg_str config_json, const mg_sink* err);
    void (*destroy)(void* instance);

    /* Build the upstream request for one call. */
    int32_t (*build_request)(void* instance, const mg_call* call, mg_upstream_request* out,
                             const mg_sink* err);

    /* Translate a whole 2xx upstream answer into the OpenAI response for the
     * operation (chat.completion, embeddings list, or model list). usage_json gets
     * the usage object when the upstream reported one. */
    int32_t (*parse_response)(void* instance, const mg_call* call, int32_t http_status, mg_str body,
                              const mg_sink* out_json, const mg_sink* usage_json,
                              const mg_sink* err);

    /* Open a decoder for a streamed answer; NULL with err set on failure. */
    void* (*stream_open)(void* instance, const mg_call* call, const mg_sink* err);
    /* Feed raw upstream bytes, split anywhere. Emits zero or more events. */
    int32_t (*stream_feed)(void* decoder, mg_str bytes, const mg_event_sink* sink);
    /* The upstream closed the stream cleanly: flush what is buffered and emit
     * MG_EVENT_DONE when the answer is complete, MG_EVENT_ERROR when it is not. */
    int32_t (*stream_finish)(void* decoder, const mg_event_sink* sink);
    void (*stream_close)(void* decoder);

    /* Classify a failed upstream answer (HTTP status >= 400, or a 2xx whose body
     * is an error). headers are "name: value\n" lines, names lower-cased. */
    int32_t (*classify_error)(void* instance, int32_t http_status, mg_str headers, mg_str body,
                              mg_error_info* out);
} mg_provider_vtable;

/* ------------------------------------------------------------------------- */
/* Feature plugins.                                                           */
/* ------------------------------------------------------------------------- */

typedef struct mg_feature_vtable {
    uint32_t struct_size;
    /* Called once, on the main thread, after the database is ready and before the
     * server accepts requests. config_json is the plugin's configuration object.
     * Register routes and jobs here. Non-MG_OK refuses the plugin (err says why). */
    int32_t (*init)(mg_plugin_handle* self, mg_str config_json, const mg_sink* err);
    /* Called once at shutdown, after the server stopped accepting requests. */
    void (*shutdown)(mg_plugin_handle* self);
} mg_feature_vtable;

/* ------------------------------------------------------------------------- */
/* The descriptor and the entry point.                                        */
/* ------------------------------------------------------------------------- */

typedef struct mg_plugin_descriptor {
    uint32_t struct_size; /* frozen forever: first three fields */
    uint16_t abi_major;
    uint16_t abi_minor;
    int32_t kind;        /* mg_plugin_kind */
    const char* id;      /* [a-z0-9_-]{1,48}; for providers, the adapter kind */
    const char* version; /* the plugin's own version, e.g. "1.2.0" */
    const char* display_name;
    /* Options as data: a JSON array of {"name","type","default","help"}, where type
     * is "string", "integer", "number", "boolean" or "object". The host validates
     * configuration against it before calling create/init. */
    const char* config_schema;
    uint64_t capabilities;              /* MG_CAP_* for providers; 0 for features */
    const mg_provider_vtable* provider; /* kind == MG_KIND_PROVIDER */
    const mg_feature_vtable* feature;   /* kind == MG_KIND_FEATURE */
} mg_plugin_descriptor;

/* The entry function. Called once, on the host's main thread. Returns a
 * descriptor that stays valid while the library is loaded, or NULL to decline. */
typedef const mg_plugin_descriptor* (*mg_plugin_entry_fn)(const mg_host_api* host,
                                                          mg_plugin_handle* self);

#if defined(__GNUC__)
#define MG_EXPORT __attribute__((visibility("default")))
#else
#define MG_EXPORT
#endif

/* Export `fn` (an mg_plugin_entry_fn) as the library's entry symbol, in the same
 * layout as BOOST_DLL_ALIAS(fn, modelgate_plugin_entry), for plain-C plugins. */
#ifdef __cplusplus
#define MG_DECLARE_PLUGIN_ENTRY(fn)                                    \
    extern "C" {                                                       \
    MG_EXPORT const void* modelgate_plugin_entry = (const void*)&(fn); \
    }
#else
#define MG_DECLARE_PLUGIN_ENTRY(fn) \
    MG_EXPORT const void* modelgate_plugin_entry = (const void*)&(fn)
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MODELGATE_ABI_H */

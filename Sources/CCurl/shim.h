// libcurl (Debian's libcurl4 at run time, libcurl4-openssl-dev to build): the HTTP(S)
// client for webhooks and the SMTP client for mail.
//
// Loaded with dlopen on first use, not linked: only the notifier needs it, and linking it
// would make every command load libcurl and its twenty-odd libraries at start. The
// header gives the types and constants; each function used is looked up once.
// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call, so they
// are called from here through pointers of their own (variadic) type.
#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>

typedef size_t (*rb_curl_io)(char *buffer, size_t size, size_t count, void *context);

struct rb_curl_api {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
};

#include <elf.h>
#include <link.h>
#include <sys/auxv.h>

// Whether this program was started by the dynamic loader (its headers name one). A fully
// static program cannot safely load a shared libcurl: it would bring a second C library.
static inline int rb_is_dynamically_linked(void) {
    const ElfW(Phdr) *headers = (const ElfW(Phdr) *)getauxval(AT_PHDR);
    unsigned long count = getauxval(AT_PHNUM);
    for (unsigned long i = 0; headers && i < count; i++) {
        if (headers[i].p_type == PT_INTERP) return 1;
    }
    return 0;
}

// Fills `api` from libcurl.so.4; returns NULL, or what dlopen or dlsym said.
static inline const char *rb_curl_load(struct rb_curl_api *api) {
    if (!rb_is_dynamically_linked()) return "this rulebook is a fully static build, which cannot load shared libraries; use one built with make install or make deb";
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return dlerror();
#define RB_CURL_SYMBOL(field, name) \
    *(void **)(&api->field) = dlsym(lib, name); \
    if (!api->field) return dlerror();
    RB_CURL_SYMBOL(global_init, "curl_global_init")
    RB_CURL_SYMBOL(easy_init, "curl_easy_init")
    RB_CURL_SYMBOL(easy_cleanup, "curl_easy_cleanup")
    RB_CURL_SYMBOL(easy_perform, "curl_easy_perform")
    RB_CURL_SYMBOL(easy_setopt, "curl_easy_setopt")
    RB_CURL_SYMBOL(easy_getinfo, "curl_easy_getinfo")
    RB_CURL_SYMBOL(easy_strerror, "curl_easy_strerror")
    RB_CURL_SYMBOL(slist_append, "curl_slist_append")
    RB_CURL_SYMBOL(slist_free_all, "curl_slist_free_all")
#undef RB_CURL_SYMBOL
    if (api->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return "curl_global_init failed";
    return NULL;
}

static inline CURLcode rb_curl_set_long(const struct rb_curl_api *api, CURL *curl, CURLoption option, long value) {
    return api->easy_setopt(curl, option, value);
}
static inline CURLcode rb_curl_set_string(const struct rb_curl_api *api, CURL *curl, CURLoption option, const char *value) {
    return api->easy_setopt(curl, option, value);
}
static inline CURLcode rb_curl_set_pointer(const struct rb_curl_api *api, CURL *curl, CURLoption option, void *value) {
    return api->easy_setopt(curl, option, value);
}
static inline CURLcode rb_curl_set_list(const struct rb_curl_api *api, CURL *curl, CURLoption option, struct curl_slist *value) {
    return api->easy_setopt(curl, option, value);
}
static inline CURLcode rb_curl_set_io(const struct rb_curl_api *api, CURL *curl, CURLoption option, rb_curl_io value) {
    return api->easy_setopt(curl, option, value);
}
static inline CURLcode rb_curl_set_size(const struct rb_curl_api *api, CURL *curl, CURLoption option, curl_off_t value) {
    return api->easy_setopt(curl, option, value);
}
static inline long rb_curl_response_code(const struct rb_curl_api *api, CURL *curl) {
    long code = 0;
    api->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

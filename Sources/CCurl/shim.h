// libcurl (Debian's libcurl4-openssl-dev): the HTTP(S) client for webhooks and the SMTP
// client for mail. curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot
// call, so each use gets a typed wrapper here.
#include <curl/curl.h>

typedef size_t (*rb_curl_io)(char *buffer, size_t size, size_t count, void *context);

static inline CURLcode rb_curl_set_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode rb_curl_set_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode rb_curl_set_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode rb_curl_set_list(CURL *curl, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode rb_curl_set_io(CURL *curl, CURLoption option, rb_curl_io value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode rb_curl_set_size(CURL *curl, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(curl, option, value);
}
static inline long rb_curl_response_code(CURL *curl) {
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    return code;
}
static inline CURLcode rb_curl_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }

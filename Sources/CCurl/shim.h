#ifndef CCURL_SHIM_H
#define CCURL_SHIM_H
#include <curl/curl.h>
/* curl_easy_setopt / curl_easy_getinfo are C variadics, which Swift cannot call: wrap them. */
typedef size_t (*ccurl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode ccurl_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }
static inline CURLcode ccurl_setopt_string(CURL *c, CURLoption o, const char *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode ccurl_setopt_long(CURL *c, CURLoption o, long v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode ccurl_setopt_ptr(CURL *c, CURLoption o, void *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode ccurl_setopt_slist(CURL *c, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode ccurl_setopt_cb(CURL *c, CURLoption o, ccurl_data_cb v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode ccurl_getinfo_long(CURL *c, CURLINFO i, long *out) { return curl_easy_getinfo(c, i, out); }
static inline CURLcode ccurl_getinfo_ptr(CURL *c, CURLINFO i, void *out) { return curl_easy_getinfo(c, i, out); }
static inline const char *ccurl_version(void) { return curl_version(); }
/* glibc's malloc_trim(3), from <malloc.h>, which Swift's Glibc module does not export; the engine
   gives the memory a large pass freed back with it. Declared here, the engine's one C shim. */
#include <malloc.h>
static inline int ccurl_malloc_trim(size_t pad) { return malloc_trim(pad); }
#endif

// libpq, PostgreSQL's client library (Debian's libpq5 at run time, libpq-dev to build):
// the PostgreSQL register.
//
// Loaded with dlopen on first use, not linked, as libcurl is (see CCurl's shim.h): only
// the commands given a PostgreSQL register need it, every other command starts without
// it, and a static build still links. Each function used is looked up once.
#include <postgresql/libpq-fe.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <sys/auxv.h>

struct rb_pq_api {
    PGconn *(*connectdb)(const char *);
    ConnStatusType (*status)(const PGconn *);
    char *(*error_message)(const PGconn *);
    void (*finish)(PGconn *);
    int (*set_client_encoding)(PGconn *, const char *);
    PGresult *(*exec_params)(PGconn *, const char *, int, const Oid *, const char *const *, const int *, const int *, int);
    ExecStatusType (*result_status)(const PGresult *);
    char *(*result_error_field)(const PGresult *, int);
    char *(*result_error_message)(const PGresult *);
    int (*ntuples)(const PGresult *);
    int (*nfields)(const PGresult *);
    int (*getisnull)(const PGresult *, int, int);
    char *(*getvalue)(const PGresult *, int, int);
    int (*getlength)(const PGresult *, int, int);
    Oid (*ftype)(const PGresult *, int);
    void (*clear)(PGresult *);
    char *(*db)(const PGconn *);
    char *(*user)(const PGconn *);
    char *(*host)(const PGconn *);
    char *(*port)(const PGconn *);
    PQnoticeProcessor (*set_notice_processor)(PGconn *, PQnoticeProcessor, void *);
};

// PostgreSQL's notices and warnings (a server shutting down says so before the
// connection breaks) would be printed by libpq on standard error, outside the server's
// structured log; what matters comes back as the next statement's error.
static inline void rb_pq_drop_notice(void *arg, const char *message) { (void)arg; (void)message; }
static inline void rb_pq_quiet(const struct rb_pq_api *api, PGconn *connection) {
    api->set_notice_processor(connection, rb_pq_drop_notice, NULL);
}

// Whether this program was started by the dynamic loader (its headers name one). A fully
// static program cannot safely load a shared library: it would bring a second C library.
static inline int rb_pq_dynamically_linked(void) {
    const ElfW(Phdr) *headers = (const ElfW(Phdr) *)getauxval(AT_PHDR);
    unsigned long count = getauxval(AT_PHNUM);
    for (unsigned long i = 0; headers && i < count; i++) {
        if (headers[i].p_type == PT_INTERP) return 1;
    }
    return 0;
}

// Fills `api` from libpq.so.5; returns NULL, or what dlopen or dlsym said.
static inline const char *rb_pq_load(struct rb_pq_api *api) {
    if (!rb_pq_dynamically_linked()) return "this rulebook is a fully static build, which cannot load shared libraries; use one built with make install or make deb";
    void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return dlerror();
#define RB_PQ_SYMBOL(field, name) \
    *(void **)(&api->field) = dlsym(lib, name); \
    if (!api->field) return dlerror();
    RB_PQ_SYMBOL(connectdb, "PQconnectdb")
    RB_PQ_SYMBOL(status, "PQstatus")
    RB_PQ_SYMBOL(error_message, "PQerrorMessage")
    RB_PQ_SYMBOL(finish, "PQfinish")
    RB_PQ_SYMBOL(set_client_encoding, "PQsetClientEncoding")
    RB_PQ_SYMBOL(exec_params, "PQexecParams")
    RB_PQ_SYMBOL(result_status, "PQresultStatus")
    RB_PQ_SYMBOL(result_error_field, "PQresultErrorField")
    RB_PQ_SYMBOL(result_error_message, "PQresultErrorMessage")
    RB_PQ_SYMBOL(ntuples, "PQntuples")
    RB_PQ_SYMBOL(nfields, "PQnfields")
    RB_PQ_SYMBOL(getisnull, "PQgetisnull")
    RB_PQ_SYMBOL(getvalue, "PQgetvalue")
    RB_PQ_SYMBOL(getlength, "PQgetlength")
    RB_PQ_SYMBOL(ftype, "PQftype")
    RB_PQ_SYMBOL(clear, "PQclear")
    RB_PQ_SYMBOL(db, "PQdb")
    RB_PQ_SYMBOL(user, "PQuser")
    RB_PQ_SYMBOL(host, "PQhost")
    RB_PQ_SYMBOL(port, "PQport")
    RB_PQ_SYMBOL(set_notice_processor, "PQsetNoticeProcessor")
#undef RB_PQ_SYMBOL
    return NULL;
}

// OpenSSL's libcrypto (Debian's libssl-dev): SHA-256 for the register's hash chains, and
// Ed25519 (through EVP) for its signed checkpoints. The one-call-per-step SHA-256 API
// (SHA256_Init/Update/Final) hashes into a context on the caller's stack: no allocation
// per hash, which matters when a register's million records are verified. OpenSSL 3
// marks it deprecated in favour of EVP, which allocates a context per digest.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <openssl/evp.h>

// What `rulebook --version` says about the build. SwiftPM cannot put a string into Swift
// code, so the values arrive as C definitions on this one file, set by Package.swift from
// RULEBOOK_BUILD_COMMIT and RULEBOOK_BUILD_DATE (the Makefile's release builds set them:
// make install, make deb). A plain `swift build` sets neither: both are empty, and the
// binary calls itself a development build. A new commit recompiles only this file.
#include "build_info.h"

#ifndef RULEBOOK_BUILD_COMMIT
#define RULEBOOK_BUILD_COMMIT ""
#endif
#ifndef RULEBOOK_BUILD_DATE
#define RULEBOOK_BUILD_DATE ""
#endif

const char *rulebook_build_commit(void) { return RULEBOOK_BUILD_COMMIT; }
const char *rulebook_build_date(void) { return RULEBOOK_BUILD_DATE; }

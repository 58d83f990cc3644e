#ifndef RULEBOOK_BUILD_INFO_H
#define RULEBOOK_BUILD_INFO_H

/// The git commit the binary was built from ("" for a development build).
const char *rulebook_build_commit(void);

/// The day it was built, YYYY-MM-DD ("" for a development build).
const char *rulebook_build_date(void);

#endif

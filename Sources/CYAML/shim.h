#ifndef RULEBOOK_CYAML_SHIM_H
#define RULEBOOK_CYAML_SHIM_H
#include <yaml.h>
#endif

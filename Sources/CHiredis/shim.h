#ifndef TOCK_CHIREDIS_SHIM_H
#define TOCK_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif

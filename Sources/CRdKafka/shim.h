#ifndef TOCK_CRDKAFKA_SHIM_H
#define TOCK_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#endif

// epoll, which the Glibc module does not export.
#ifndef RINGCACHE_EPOLL_H
#define RINGCACHE_EPOLL_H
#include <sys/epoll.h>
#endif

#ifndef SIDECAR_CNETFILTER_SHIM_H
#define SIDECAR_CNETFILTER_SHIM_H

/* glibc's <netinet/in.h> must come first: the kernel's <linux/in6.h>, pulled in by the
 * netfilter headers, otherwise redefines in6_addr and the module fails to build. */
#include <netinet/in.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_nat.h>

#endif

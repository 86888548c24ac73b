/* Bringing the network up for p2v run: p2v.ip and p2v.iface carried out
 * (run_net.h builds the commands; this runs them). */
#ifndef P2V_RUN_NET_UP_H
#define P2V_RUN_NET_UP_H

#include <stdbool.h>

#include "run_net.h"

/* Seconds to wait for a link's carrier after bringing it up. */
#define RUN_NET_CARRIER_WAIT 10

/* Set the network up as n says: choose the interface (n->iface, else the
 * first Ethernet link with carrier), bring it up, then the static address,
 * default route and name server, or DHCP (udhcpc with a script written to
 * run_dir, else dhclient). Without p2v.ip (n->set false) only log the
 * addresses there are. dry: log what would be run and change nothing.
 * resolv_conf: the file a name server goes to (/etc/resolv.conf).
 * 0, or a negative errno after logging what failed. */
int run_net_up(const struct run_net *n, const char *run_dir, const char *resolv_conf, bool dry);

/* Log every interface's addresses and the default routes: what the run
 * goes out with. */
void run_net_log_addresses(void);

#endif

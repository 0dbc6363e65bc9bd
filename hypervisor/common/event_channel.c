/* Event channels, 2-level ABI. (In progress.) */
#include <vesta/errno.h>
#include <vesta/lib.h>
#include <vesta/mm.h>
#include <vesta/pv.h>

struct evtchn {
    uint8_t state;
};

void evtchn_init_domain(struct domain *d) { d->evtchn = xzalloc(sizeof(struct evtchn) * EVTCHN_2L_NR_CHANNELS); }
void evtchn_set_pending(struct vcpu *v, unsigned int port) { (void)v; (void)port; }
void send_guest_virq(struct vcpu *v, unsigned int virq) { (void)v; (void)virq; }
void send_guest_global_virq(struct domain *d, unsigned int virq) { (void)d; (void)virq; }
bool vcpu_event_pending(const struct vcpu *v) { return v->vcpu_info && v->vcpu_info->evtchn_upcall_pending; }
HC(do_event_channel_op_hc) { return -ENOSYS; }

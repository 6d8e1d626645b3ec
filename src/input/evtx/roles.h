/* What an element or attribute means in an event, from its ancestors' names: the names
 * the EVTX decoder reacts to and the roles they give. Shared by the template compiler
 * (template.c, which works roles out once per template) and the record walker (binxml.c,
 * which uses them per record): here, as inline functions, so that neither of those files
 * depends on the other for them and the walker's per-attribute test stays inlined. */
#ifndef DH_INPUT_EVTX_ROLES_H
#define DH_INPUT_EVTX_ROLES_H

#include <stdint.h>

/* Names the decoder reacts to, resolved once per template. */
enum evtx_known {
    KN_NONE,
    KN_EVENT,
    KN_SYSTEM,
    KN_PROVIDER,
    KN_EVENTID,
    KN_TIMECREATED,
    KN_EVENTRECORDID,
    KN_CHANNEL,
    KN_COMPUTER,
    KN_EVENTDATA,
    KN_USERDATA,
    KN_DATA,
    KN_NAME,
    KN_SYSTEMTIME,
};

/* Where an element or attribute sits in an event, decided from its ancestors' names. */
enum evtx_role {
    R_NONE,
    R_EVENT,
    R_SYSTEM,
    R_SYS_PROVIDER,
    R_SYS_EVENTID,
    R_SYS_TIME,
    R_SYS_RECID,
    R_SYS_CHANNEL,
    R_SYS_COMPUTER,
    R_SYS_OTHER,
    R_EVENTDATA,
    R_ED_ITEM,
    R_ED_DEEP,
    R_USERDATA,
    R_UD_WRAP,
    R_UD_ITEM,
    R_OTHER,
    R_COUNT
};

/* The role of a child element of an element in `parent` named `known`. */
static inline uint8_t evtx_classify_role(uint8_t parent, uint8_t known)
{
    switch (parent) {
    case R_NONE:
        return known == KN_EVENT ? R_EVENT : R_OTHER;
    case R_EVENT:
        return known == KN_SYSTEM      ? R_SYSTEM
               : known == KN_EVENTDATA ? R_EVENTDATA
               : known == KN_USERDATA  ? R_USERDATA
                                       : R_OTHER;
    case R_SYSTEM:
        switch (known) {
        case KN_PROVIDER:
            return R_SYS_PROVIDER;
        case KN_EVENTID:
            return R_SYS_EVENTID;
        case KN_TIMECREATED:
            return R_SYS_TIME;
        case KN_EVENTRECORDID:
            return R_SYS_RECID;
        case KN_CHANNEL:
            return R_SYS_CHANNEL;
        case KN_COMPUTER:
            return R_SYS_COMPUTER;
        default:
            return R_SYS_OTHER;
        }
    case R_EVENTDATA:
        return R_ED_ITEM;
    case R_ED_ITEM:
        return R_ED_DEEP;
    case R_USERDATA:
        return R_UD_WRAP;
    case R_UD_WRAP:
    case R_UD_ITEM:
        return R_UD_ITEM;
    case R_SYS_OTHER:
    case R_ED_DEEP:
        return parent;
    default:
        return R_OTHER;
    }
}

/* An attribute of a System element that is a System property (dh_event_system): all but
 * the provider's Name and the time, which are the envelope. */
static inline int evtx_sys_attr(uint8_t role, uint8_t known)
{
    return (role == R_SYS_PROVIDER && known != KN_NAME) || role == R_SYS_EVENTID ||
           role == R_SYS_OTHER;
}

#endif

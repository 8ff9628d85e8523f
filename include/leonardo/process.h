/*
 * leonardo's process API, for guest programs (C compiled to wasm32) and
 * for the runtime, which shares the constants.  docs/ABI.md describes the
 * same API for any language: every function is an import from the module
 * "leonardo", with i32/i64 parameters only.
 *
 *   #include <leonardo/process.h>       (clang -I path/to/leonardo/include)
 *
 * Pids are 64-bit and never reused while the runtime lives; 0 is no process.
 * Pointers and lengths refer to the caller's linear memory; a bad one kills
 * the calling process with a clear reason, as does an unknown id.
 */
#ifndef LEONARDO_PROCESS_H
#define LEONARDO_PROCESS_H

#include <stdint.h>

/* Kinds of message, as receive() returns them. */
#define LW_MSG_TIMEOUT (-1)
#define LW_MSG_DATA 0
#define LW_MSG_EXIT 1       /* a linked process ended (only while trapping exits) */
#define LW_MSG_DOWN 2       /* a monitored process ended */

/* The tags of notifications, so that a selective receive can ask for them. */
#define LW_TAG_EXIT INT64_C(-1)
#define LW_TAG_DOWN INT64_C(-2)

/* Why a process ended: 0 is normal; an exit(reason) value; or one of these. */
#define LW_REASON_NORMAL 0
#define LW_REASON_TRAP INT64_C(-1)      /* a trap (the text says which) */
#define LW_REASON_KILLED INT64_C(-2)    /* kill() */
#define LW_REASON_LINK INT64_C(-3)      /* a linked process ended abnormally */
#define LW_REASON_NOPROC INT64_C(-4)    /* monitor(): there was no such process */

/* spawn flags */
#define LW_SPAWN_LINK 1u
#define LW_SPAWN_MONITOR 2u  /* the monitor ref is the child's pid */

/* Capabilities in a configuration. */
#define LW_CAP_SPAWN 1u      /* may spawn processes */
#define LW_CAP_CONFIG 2u     /* may create configurations */
#define LW_CAP_COMPILE 4u    /* may compile modules at run time */
#define LW_CAP_ALL 7u

/* An LW_MSG_EXIT or LW_MSG_DOWN message's data: this, then the reason as text. */
typedef struct {
    int64_t reason;          /* LW_REASON_* or the exit() value */
    uint64_t ref;            /* DOWN: the monitor's reference; EXIT: 0 */
} lw_notice;

#if defined(__wasm__)
#define LW_IMPORT(name) __attribute__((import_module("leonardo"), import_name(name)))

LW_IMPORT("self") uint64_t lw_self(void);
/* Start function `fn` (an entry of the function table: a C function pointer) with nargs
   integer arguments (args: int64 values, converted to its i32/i64 parameters).  config 0 is a copy of
   the caller's own.  Returns the child's pid, or 0 if it could not start. */
LW_IMPORT("spawn") uint64_t lw_spawn_raw(uint32_t fn, const int64_t *args, uint32_t nargs,
                                          uint32_t flags, uint64_t config);
/* The same for an exported function, by name. */
LW_IMPORT("spawn_export") uint64_t lw_spawn_export(const char *name, uint32_t name_len, const int64_t *args,
                                                  uint32_t nargs, uint32_t flags, uint64_t config);
/* 0: sent; 1: no such process (the message is dropped, as in Erlang). */
LW_IMPORT("send") int32_t lw_send(uint64_t pid, int64_t tag, const void *data, uint32_t len);
/* Compile a module from bytes (binary, or the text format) with LW_CAP_COMPILE: an id, or 0. */
LW_IMPORT("module_compile") uint64_t lw_module_compile(const void *bytes, uint32_t len);
/* Spawn an exported function of a compiled module, as lw_spawn_export does for the caller's own. */
LW_IMPORT("spawn_module") uint64_t lw_spawn_module(uint64_t module, const char *name, uint32_t name_len,
                                                  const int64_t *args, uint32_t nargs, uint32_t flags,
                                                  uint64_t config);
LW_IMPORT("module_free") void lw_module_free_id(uint64_t module);
/* Wait for the oldest message whose tag is one of tags[0..ntags) (any message when ntags is 0),
   for at most timeout_ms (-1: forever).  Returns LW_MSG_* (LW_MSG_TIMEOUT if none came); the
   message is then readable with lw_msg_*() until the next receive. */
LW_IMPORT("receive") int32_t lw_receive(const int64_t *tags, uint32_t ntags, int64_t timeout_ms);
LW_IMPORT("msg_tag") int64_t lw_msg_tag(void);
LW_IMPORT("msg_sender") uint64_t lw_msg_sender(void);
LW_IMPORT("msg_len") uint32_t lw_msg_len(void);
/* Copies min(len, lw_msg_len()) bytes; returns how many. */
LW_IMPORT("msg_read") uint32_t lw_msg_read(void *buf, uint32_t len);

LW_IMPORT("link") int32_t lw_link(uint64_t pid);          /* 0, or 1: no such process */
LW_IMPORT("unlink") int32_t lw_unlink(uint64_t pid);
LW_IMPORT("monitor") uint64_t lw_monitor(uint64_t pid);   /* a reference; DOWN at once if pid is gone */
LW_IMPORT("demonitor") int32_t lw_demonitor(uint64_t ref);  /* 0 (no DOWN will come), or 1: unknown or over */
LW_IMPORT("kill") int32_t lw_kill(uint64_t pid);          /* 0, or 1: no such process */
LW_IMPORT("exit") __attribute__((noreturn)) void lw_exit(int64_t reason);
LW_IMPORT("trap_exit") int32_t lw_trap_exit(int32_t on);  /* returns the old setting */

LW_IMPORT("register") int32_t lw_register(const char *name, uint32_t len);   /* 0, or 1: taken */
LW_IMPORT("whereis") uint64_t lw_whereis(const char *name, uint32_t len);    /* 0: none */
LW_IMPORT("unregister") int32_t lw_unregister(const char *name, uint32_t len);

LW_IMPORT("sleep") void lw_sleep(int64_t ms);
LW_IMPORT("yield") void lw_yield(void);
LW_IMPORT("send_after") uint64_t lw_send_after(uint64_t pid, int64_t ms, int64_t tag, const void *data,
                                               uint32_t len);
LW_IMPORT("cancel_timer") int32_t lw_cancel_timer(uint64_t ref);   /* 1: cancelled; 0: fired or unknown */

/* Configurations: a copy of the caller's own, then narrowed.  Setters return 0, or -1 when the
   value would widen the caller's own configuration (refused). */
LW_IMPORT("config_new") uint64_t lw_config_new(void);
LW_IMPORT("config_set_max_memory") int32_t lw_config_set_max_memory(uint64_t config, uint64_t bytes);
LW_IMPORT("config_set_max_fuel") int32_t lw_config_set_max_fuel(uint64_t config, uint64_t units);
LW_IMPORT("config_set_caps") int32_t lw_config_set_caps(uint64_t config, uint32_t caps);
/* WASI: the child gets only the caller's fds whose bit is set in fd_mask (bit i: fd i; bit 63:
   fds 63 and up), each with at most `rights` (__WASI_RIGHTS_* bits), and no environment
   variables after config_clear_env.  Tables derive from the caller's, so they only narrow. */
LW_IMPORT("config_set_fds") int32_t lw_config_set_fds(uint64_t config, uint64_t fd_mask);
LW_IMPORT("config_set_rights") int32_t lw_config_set_rights(uint64_t config, uint64_t rights);
LW_IMPORT("config_clear_env") int32_t lw_config_clear_env(uint64_t config);
LW_IMPORT("config_free") void lw_config_free(uint64_t config);

/* Convenience: spawn a C function taking one integer. */
static inline uint64_t lw_spawn(void (*fn)(int64_t), int64_t arg, uint32_t flags)
{
    return lw_spawn_raw((uint32_t)(uintptr_t)fn, &arg, 1, flags, 0);
}
#undef LW_IMPORT
#endif

#endif

/*
 * _pysignal.c - has Python's C-level signal handler caught a signal whose
 * Python handler has not run yet?  The answer the core's interruptible
 * sleepers ask for (wait_signal_pending, csrc/kernel/sched/wait.h): with
 * it the main thread may spin before it sleeps, since a handler that runs
 * while it spins is seen at once; without it the main thread never spins.
 *
 * Python's handler only sets flags; the interpreter runs the Python-level
 * handlers later, with the GIL.  No public call reads those flags without
 * the GIL, so this reads the runtime's own, through CPython's internal
 * headers -- the extension is built against one Python version, so the
 * layout read is that version's:
 *
 *   3.12, 3.13  _PyRuntime.signals.is_tripped: set by the handler (and by
 *               PyErr_SetInterrupt), cleared by PyErr_CheckSignals() as it
 *               runs the handlers.
 *   3.10, 3.11  _PyRuntime.ceval.signals_pending: set by the handler,
 *               cleared only when the eval loop runs the handlers -- not by
 *               the PyErr_CheckSignals() the bridge calls -- so it may still
 *               be set when a call restarts after its handlers ran.
 *
 * Any other version, or a build without the GIL: "cannot tell" (-1).
 *
 * So each blocking call of the main thread notes how it begins
 * (menios_signal_call_begin).  The first sleep of a call trusts the flag:
 * set, it is a signal caught since the interpreter last ran its handlers --
 * before the call, during its first attempt, or in a moment it ran
 * without the GIL -- which would otherwise be lost until the next one,
 * since no sleep was there for it to end; the sleep ends at once and the
 * handlers run (on 3.10 and 3.11 the flag may instead be left from
 * handlers PyErr_CheckSignals() already ran: the call then restarts once).
 * A call restarting after its handlers ran notes whether the flag is still
 * set; if it is, it cannot tell a new signal from that one and answers -1
 * (no spin) until it returns.  The bridge calls both functions only in
 * the main thread, the only thread whose sleeps are interruptible: `stale`
 * needs no atomics.
 */
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>

#if !defined(Py_GIL_DISABLED) && PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000
#include "internal/pycore_runtime.h"
#if PY_VERSION_HEX >= 0x030D0000
#define TRIPPED() _Py_atomic_load_int_relaxed(&_PyRuntime.signals.is_tripped)
#else
#define TRIPPED() _Py_atomic_load_relaxed(&_PyRuntime.signals.is_tripped)
#endif
#elif PY_VERSION_HEX >= 0x030A0000 && PY_VERSION_HEX < 0x030C0000
#include "internal/pycore_runtime.h"
#define TRIPPED() _Py_atomic_load_relaxed(&_PyRuntime.ceval.signals_pending)
#endif

#include "_pysignal.h"

#ifdef TRIPPED
static int stale;	/* the flag was set when this call restarted */

void menios_signal_call_begin(int restart)
{
	stale = restart && TRIPPED() != 0;
}

int menios_signal_pending(void)
{
	if (stale)
		return -1;
	return TRIPPED() != 0;
}
#else
void menios_signal_call_begin(int restart)
{
	(void)restart;
}

int menios_signal_pending(void)
{
	return -1;
}
#endif

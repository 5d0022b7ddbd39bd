/* _pysignal.h - Python's caught-but-unhandled signals, read without the
 * GIL (see _pysignal.c). */
#ifndef MENIOS_PYSIGNAL_H
#define MENIOS_PYSIGNAL_H

/* A blocking call of the main thread begins (@restart 0) or restarts
 * after its signal handlers ran (1). */
void menios_signal_call_begin(int restart);

/* wait_signal_pending for the main thread's sleeps: 1, 0, or -1 (cannot
 * tell). */
int menios_signal_pending(void);

#endif

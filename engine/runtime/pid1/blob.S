/* SPDX-License-Identifier: Apache-2.0 */
/* The init program (pid1.c, built static by CMake) inside the berth
 * binary, written into a sealed memfd on first use (runtime_init_program). */
    .section .rodata
    .balign 16
    .global berth_pid1_start
    .global berth_pid1_end
berth_pid1_start:
    .incbin BERTH_PID1_PATH
berth_pid1_end:
    .section .note.GNU-stack,"",@progbits

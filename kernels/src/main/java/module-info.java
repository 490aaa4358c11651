/** The CUDA kernel sources Lacuna compiles at run time, with their index and shared headers. */
module org.lacuna.kernels {
    exports org.lacuna.kernels;
}

package org.lacuna.runtime.cpu.kernels;

/** Defers loading the Vector API classes until a backend with the Vector API enabled first asks for them. */
final class VectorTileMathHolder {
    static final AttentionTileMath INSTANCE = new VectorAttentionTileMath();

    private VectorTileMathHolder() {
    }
}

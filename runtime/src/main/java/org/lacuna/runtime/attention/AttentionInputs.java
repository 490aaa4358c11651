package org.lacuna.runtime.attention;

import java.util.Objects;
import org.lacuna.runtime.data.DType;
import org.lacuna.runtime.data.DeviceArray;

/**
 * Q, K and V of a multi-head attention, one row per token, head h at columns {@code h·D .. h·D+D-1}: either one packed
 * tensor straight from a fused QKV projection, or three tensors.
 */
public sealed interface AttentionInputs permits AttentionInputs.Packed, AttentionInputs.Separate {
    /** The rows of the token dimension (dimension 0 of every operand). */
    long rows();

    DType dtype();

    /** Every tensor involved, for argument checks. */
    java.util.List<DeviceArray> arrays();

    /** {@code qkv} [rows, 3, heads, headDim] (or [rows, 3·heads·headDim]): Q, K, V side by side in each row. */
    record Packed(DeviceArray qkv) implements AttentionInputs {
        public Packed {
            Objects.requireNonNull(qkv, "qkv");
        }

        @Override
        public long rows() {
            return qkv.shape().rank() == 0 ? 1 : qkv.shape().dim(0);
        }

        @Override
        public DType dtype() {
            return qkv.dtype();
        }

        @Override
        public java.util.List<DeviceArray> arrays() {
            return java.util.List.of(qkv);
        }
    }

    /** {@code q}, {@code k}, {@code v} each [rows, heads, headDim] (or [rows, heads·headDim]). */
    record Separate(DeviceArray q, DeviceArray k, DeviceArray v) implements AttentionInputs {
        public Separate {
            Objects.requireNonNull(q, "q");
            Objects.requireNonNull(k, "k");
            Objects.requireNonNull(v, "v");
        }

        @Override
        public long rows() {
            return q.shape().rank() == 0 ? 1 : q.shape().dim(0);
        }

        @Override
        public DType dtype() {
            return q.dtype();
        }

        @Override
        public java.util.List<DeviceArray> arrays() {
            return java.util.List.of(q, k, v);
        }
    }

    static AttentionInputs packed(DeviceArray qkv) {
        return new Packed(qkv);
    }

    static AttentionInputs separate(DeviceArray q, DeviceArray k, DeviceArray v) {
        return new Separate(q, k, v);
    }
}

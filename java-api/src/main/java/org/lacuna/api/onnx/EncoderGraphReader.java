package org.lacuna.api.onnx;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lacuna.api.onnx.GraphValues.Act;
import org.lacuna.api.onnx.GraphValues.Affine;
import org.lacuna.api.onnx.GraphValues.Context;
import org.lacuna.api.onnx.GraphValues.Dim;
import org.lacuna.api.onnx.GraphValues.Dims;
import org.lacuna.api.onnx.GraphValues.Embedding;
import org.lacuna.api.onnx.GraphValues.FloatConst;
import org.lacuna.api.onnx.GraphValues.Gelu;
import org.lacuna.api.onnx.GraphValues.GeluStage;
import org.lacuna.api.onnx.GraphValues.GeluStep;
import org.lacuna.api.onnx.GraphValues.GraphInput;
import org.lacuna.api.onnx.GraphValues.HeadLayout;
import org.lacuna.api.onnx.GraphValues.Heads;
import org.lacuna.api.onnx.GraphValues.IntConst;
import org.lacuna.api.onnx.GraphValues.Lookup;
import org.lacuna.api.onnx.GraphValues.MaskStep;
import org.lacuna.api.onnx.GraphValues.Norm;
import org.lacuna.api.onnx.GraphValues.NormStage;
import org.lacuna.api.onnx.GraphValues.NormStep;
import org.lacuna.api.onnx.GraphValues.Positions;
import org.lacuna.api.onnx.GraphValues.Residual;
import org.lacuna.api.onnx.GraphValues.Scores;
import org.lacuna.api.onnx.GraphValues.SelfAttention;
import org.lacuna.api.onnx.GraphValues.Value;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.error.NotSupportedException;

/**
 * Learns what each value of an ONNX graph is by interpreting its nodes in order over {@link GraphValues}: constants
 * and shape arithmetic are folded, and the activations of a BERT-family encoder are recognised from the operators
 * that compute them (MatMul + Add is a linear layer, ReduceMean … Add a LayerNorm, Div/Erf/Add/Mul GELU, Reshape and
 * Transpose the head split, MatMul/Div/Add/Softmax/MatMul the attention). Only nodes the chosen output depends on are
 * read, so a pooler head beside {@code last_hidden_state} does not matter. An operator outside this set, or a
 * combination of operands that is none of these patterns, fails naming the node and its op type.
 */
final class EncoderGraphReader {
    private static final String CALL = "OnnxEncoder.read";

    private final GraphProto graph;
    private final String source;
    private final Map<String, Value> values = new HashMap<>();
    private final Map<String, TensorProto> initializers = new HashMap<>();

    EncoderGraphReader(GraphProto graph, String source) {
        this.graph = graph;
        this.source = source;
        for (TensorProto t : graph.getInitializerList()) {
            initializers.put(t.getName(), t);
        }
        for (var input : graph.getInputList()) {
            if (!initializers.containsKey(input.getName())) {
                values.put(input.getName(), new GraphInput(input.getName()));
            }
        }
    }

    /** The value of graph output {@code output}, reading every node it depends on. */
    Value evaluate(String output) {
        Map<String, NodeProto> producers = new HashMap<>();
        for (NodeProto node : graph.getNodeList()) {
            for (String out : node.getOutputList()) {
                producers.put(out, node);
            }
        }
        Set<NodeProto> needed = new HashSet<>();
        Deque<String> pending = new ArrayDeque<>(List.of(output));
        while (!pending.isEmpty()) {
            String name = pending.pop();
            NodeProto producer = producers.get(name);
            if (producer == null) {
                if (!values.containsKey(name) && !initializers.containsKey(name) && !name.isEmpty()) {
                    throw new MalformedInputException(source, "value '" + name + "' is produced by no node and is no "
                            + "initializer or graph input: the file is truncated or not a complete model");
                }
                continue;
            }
            if (needed.add(producer)) {
                pending.addAll(producer.getInputList());
            }
        }
        // ONNX requires nodes in topological order; read them as stored.
        for (NodeProto node : graph.getNodeList()) {
            if (needed.contains(node)) {
                Value v = interpret(node);
                values.put(node.getOutput(0), v);
            }
        }
        return value(output, null);
    }

    private Value value(String name, NodeProto user) {
        Value v = values.get(name);
        if (v != null) {
            return v;
        }
        TensorProto t = initializers.get(name);
        if (t == null) {
            throw new MalformedInputException(source, "value '" + name + "'" + (user == null ? "" : " used by "
                    + nodeName(user)) + " is not defined before its use");
        }
        v = constant(t);
        values.put(name, v);
        return v;
    }

    private Value constant(TensorProto t) {
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        return OnnxFile.isFloat(t) ? new FloatConst(OnnxFile.floats(t, source), dims)
                : new IntConst(OnnxFile.longs(t, source), dims);
    }

    private Value input(NodeProto node, int i) {
        if (i >= node.getInputCount() || node.getInput(i).isEmpty()) {
            throw unsupported(node, "input " + i + " is missing");
        }
        return value(node.getInput(i), node);
    }

    private Value interpret(NodeProto node) {
        if (!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx")) {
            throw unsupported(node, "operators of domain '" + node.getDomain() + "' are not supported");
        }
        return switch (node.getOpType()) {
            case "Constant" -> constantNode(node);
            case "Identity" -> input(node, 0);
            case "Cast" -> cast(node);
            case "Shape" -> shape(node);
            case "Gather" -> gather(node);
            case "Unsqueeze" -> unsqueeze(node);
            case "Concat" -> concat(node);
            case "Slice" -> slice(node);
            case "Reshape" -> reshape(node);
            case "Transpose" -> transpose(node);
            case "MatMul" -> matMul(node);
            case "Add" -> add(node);
            case "Sub" -> sub(node);
            case "Mul" -> mul(node);
            case "Div" -> div(node);
            case "Pow" -> pow(node);
            case "ReduceMean" -> reduceMean(node);
            case "Sqrt" -> sqrt(node);
            case "Erf" -> erf(node);
            case "Softmax" -> softmax(node);
            case "LayerNormalization" -> layerNormalization(node);
            case "Gelu" -> geluNode(node);
            default -> throw unsupported(node, "this operator is not supported in an encoder graph");
        };
    }

    // ---- constants and shapes -------------------------------------------------------------------------------------

    private Value constantNode(NodeProto node) {
        for (AttributeProto a : node.getAttributeList()) {
            switch (a.getName()) {
                case "value" -> {
                    return constant(a.getT());
                }
                case "value_float" -> {
                    return new FloatConst(new float[] {a.getF()}, new long[0]);
                }
                case "value_floats" -> {
                    float[] f = new float[a.getFloatsCount()];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = a.getFloats(i);
                    }
                    return new FloatConst(f, new long[] {f.length});
                }
                case "value_int" -> {
                    return new IntConst(new long[] {a.getI()}, new long[0]);
                }
                case "value_ints" -> {
                    return new IntConst(a.getIntsList().stream().mapToLong(Long::longValue).toArray(),
                            new long[] {a.getIntsCount()});
                }
                default -> {
                }
            }
        }
        throw unsupported(node, "a Constant without a tensor, float or int value");
    }

    private Value cast(NodeProto node) {
        Value x = input(node, 0);
        long to = intAttribute(node, "to", 0);
        boolean toFloat = to == TensorProto.DataType.FLOAT_VALUE || to == TensorProto.DataType.FLOAT16_VALUE
                || to == TensorProto.DataType.DOUBLE_VALUE;
        return switch (x) {
            case MaskStep m when toFloat -> m;
            case Act a when toFloat -> a;
            case FloatConst f when toFloat -> f;
            case IntConst c when toFloat -> {
                float[] f = new float[c.values().length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = c.values()[i];
                }
                yield new FloatConst(f, c.dims());
            }
            case IntConst c when !toFloat -> c;
            case Dims d when !toFloat -> d;
            case GraphInput g when !toFloat -> g;
            default -> throw unsupported(node, "cannot cast " + x.describe() + " to " + OnnxFile.dataTypeName((int) to));
        };
    }

    private Value shape(NodeProto node) {
        Value x = input(node, 0);
        List<Dim> dims = switch (x) {
            case Act a -> List.of(Dim.BATCH, Dim.SEQUENCE, Dim.of(a.width()));
            case GraphInput g -> List.of(Dim.BATCH, Dim.SEQUENCE);
            case Context c when c.transposed() -> List.of(Dim.BATCH, Dim.SEQUENCE, Dim.of(c.probabilities().heads()),
                    Dim.of(c.probabilities().headDim()));
            default -> throw unsupported(node, "the shape of " + x.describe());
        };
        // As the specification says: negative ends count from the back, then both are clamped to [0, rank].
        int start = clampAxis(intAttribute(node, "start", 0), dims.size());
        int end = clampAxis(intAttribute(node, "end", dims.size()), dims.size());
        return new Dims(start >= end ? List.of() : List.copyOf(dims.subList(start, end)), false);
    }

    private Value gather(NodeProto node) {
        Value data = input(node, 0);
        Value indices = input(node, 1);
        long axis = intAttribute(node, "axis", 0);
        if (data instanceof Dims d && indices instanceof IntConst i && i.values().length == 1 && axis == 0) {
            long at = i.values()[0];
            at = at < 0 ? at + d.dims().size() : at;
            if (at < 0 || at >= d.dims().size()) {
                throw unsupported(node, "index " + i.values()[0] + " outside shape " + d.dims());
            }
            return new Dims(List.of(d.dims().get((int) at)), i.dims().length == 0);
        }
        if (data instanceof FloatConst table && table.dims().length == 2 && axis == 0
                && (indices instanceof GraphInput || indices instanceof Positions)) {
            int rows = intDim(node, table.dims()[0]);
            int width = intDim(node, table.dims()[1]);
            return new Embedding(List.of(new Lookup(table.values(), rows, width, indices)), width, nodeName(node));
        }
        throw unsupported(node, "gathering " + indices.describe() + " from " + data.describe() + " on axis " + axis);
    }

    private Value unsqueeze(NodeProto node) {
        Value x = input(node, 0);
        long[] axes = node.getInputCount() > 1 ? longs(node, input(node, 1)) : intsAttribute(node, "axes");
        return switch (x) {
            case Dims d when d.scalar() && axes.length == 1 && axes[0] == 0 -> new Dims(d.dims(), false);
            case IntConst c when c.dims().length == 0 && axes.length == 1 && axes[0] == 0 ->
                    new IntConst(c.values(), new long[] {1});
            case GraphInput g -> insertMaskAxes(node, new MaskStep(g, List.of("batch", "sequence"), false, false), axes);
            case MaskStep m when !m.inverted() -> insertMaskAxes(node, m, axes);
            default -> throw unsupported(node, "unsqueezing " + x.describe() + " at " + java.util.Arrays.toString(axes));
        };
    }

    private static MaskStep insertMaskAxes(NodeProto node, MaskStep m, long[] axes) {
        List<String> layout = new ArrayList<>(m.layout());
        long[] sorted = axes.clone();
        java.util.Arrays.sort(sorted);
        for (long axis : sorted) {
            long at = axis < 0 ? axis + layout.size() + 1 : axis;
            if (at < 0 || at > layout.size()) {
                throw new NotSupportedException(CALL, "node " + nodeName(node) + " (Unsqueeze): axis " + axis
                        + " outside the mask's rank");
            }
            layout.add((int) at, "1");
        }
        return new MaskStep(m.mask(), List.copyOf(layout), m.inverted(), m.bias());
    }

    private Value concat(NodeProto node) {
        List<Dim> dims = new ArrayList<>();
        for (int i = 0; i < node.getInputCount(); i++) {
            Value v = input(node, i);
            switch (v) {
                case Dims d when !d.scalar() -> dims.addAll(d.dims());
                case IntConst c when c.dims().length == 1 -> {
                    for (long value : c.values()) {
                        dims.add(Dim.of(value));
                    }
                }
                default -> throw unsupported(node, "concatenating " + v.describe() + " into a shape");
            }
        }
        return new Dims(List.copyOf(dims), false);
    }

    /** The position ids: the model's buffer [1, max] sliced to the sequence length along axis 1, from 0. */
    private Value slice(NodeProto node) {
        Value data = input(node, 0);
        if (!(data instanceof IntConst buffer) || buffer.dims().length != 2 || node.getInputCount() < 3) {
            throw unsupported(node, "slicing " + data.describe() + " (only the position-id buffer is sliced)");
        }
        long[] starts = longs(node, input(node, 1));
        Value ends = input(node, 2);
        long[] axes = node.getInputCount() > 3 && !node.getInput(3).isEmpty() ? longs(node, input(node, 3))
                : new long[] {0};
        long[] steps = node.getInputCount() > 4 && !node.getInput(4).isEmpty() ? longs(node, input(node, 4))
                : new long[] {1};
        boolean toSequence = ends instanceof Dims d && d.dims().equals(List.of(Dim.SEQUENCE));
        boolean arange = true;
        for (int i = 0; i < buffer.values().length; i++) {
            arange &= buffer.values()[i] == i;
        }
        if (starts.length == 1 && starts[0] == 0 && toSequence && axes.length == 1 && axes[0] == 1
                && steps.length == 1 && steps[0] == 1 && arange) {
            return new Positions();
        }
        throw unsupported(node, "a slice that is not the position ids 0 … sequence − 1");
    }

    // ---- heads ----------------------------------------------------------------------------------------------------

    private Value reshape(NodeProto node) {
        Value x = input(node, 0);
        List<Dim> target = shapeOperand(node, input(node, 1));
        if (x instanceof Affine a && target.size() == 4 && batchAndSequence(target)) {
            long heads = target.get(2).value();
            long headDim = target.get(3).value();
            if (heads == -1 && headDim > 0) {
                heads = a.out() / headDim;
            } else if (headDim == -1 && heads > 0) {
                headDim = a.out() / heads;
            }
            // Bounded by the width first, so the product cannot overflow and both fit an int.
            if (heads > 0 && headDim > 0 && heads <= a.out() && headDim <= a.out() && heads * headDim == a.out()) {
                return new Heads(a, (int) heads, (int) headDim, HeadLayout.SPLIT);
            }
            throw unsupported(node, "splitting width " + a.out() + " into " + target.subList(2, 4));
        }
        if (x instanceof Context c && c.transposed() && target.size() == 3 && batchAndSequence(target)) {
            Scores s = c.probabilities();
            long width = target.get(2).value();
            if (width == -1 || width == (long) s.heads() * s.headDim()) {
                return new SelfAttention(s.q(), s.k(), c.v(), s.heads(), s.headDim(), s.scale(), s.mask(),
                        nodeName(node));
            }
        }
        throw unsupported(node, "reshaping " + x.describe() + " to " + target);
    }

    private static boolean batchAndSequence(List<Dim> target) {
        Dim b = target.get(0);
        Dim s = target.get(1);
        // A 0 in a Reshape target copies the input's dimension.
        return (b.equals(Dim.BATCH) || b.equals(Dim.of(0))) && (s.equals(Dim.SEQUENCE) || s.equals(Dim.of(0)));
    }

    private Value transpose(NodeProto node) {
        Value x = input(node, 0);
        long[] perm = intsAttribute(node, "perm");
        String p = java.util.Arrays.toString(perm);
        if (x instanceof Heads h && h.layout() == HeadLayout.SPLIT && p.equals("[0, 2, 1, 3]")) {
            return new Heads(h.projection(), h.heads(), h.headDim(), HeadLayout.BHSD);
        }
        if (x instanceof Heads h && h.layout() == HeadLayout.SPLIT && p.equals("[0, 2, 3, 1]")) {
            return new Heads(h.projection(), h.heads(), h.headDim(), HeadLayout.BHDS);
        }
        if (x instanceof Heads h && h.layout() == HeadLayout.BHSD && p.equals("[0, 1, 3, 2]")) {
            return new Heads(h.projection(), h.heads(), h.headDim(), HeadLayout.BHDS);
        }
        if (x instanceof Context c && !c.transposed() && p.equals("[0, 2, 1, 3]")) {
            return new Context(c.probabilities(), c.v(), true);
        }
        if (x instanceof FloatConst w && w.dims().length == 2 && (perm.length == 0 || p.equals("[1, 0]"))) {
            int rows = intDim(node, w.dims()[0]);
            int cols = intDim(node, w.dims()[1]);
            return new FloatConst(transposed(w.values(), rows, cols), new long[] {cols, rows});
        }
        throw unsupported(node, "transposing " + x.describe() + " by " + p);
    }

    // ---- arithmetic -----------------------------------------------------------------------------------------------

    private Value matMul(NodeProto node) {
        Value a = input(node, 0);
        Value b = input(node, 1);
        if (a instanceof Act x && b instanceof FloatConst w && w.dims().length == 2 && w.dims()[0] == x.width()) {
            return new Affine(x, w.values(), intDim(node, w.dims()[0]), intDim(node, w.dims()[1]), null, nodeName(node));
        }
        if (a instanceof Heads q && q.layout() == HeadLayout.BHSD && b instanceof Heads k
                && k.layout() == HeadLayout.BHDS && q.heads() == k.heads() && q.headDim() == k.headDim()) {
            return new Scores(q.projection(), k.projection(), q.heads(), q.headDim(), 1.0, null, false);
        }
        if (a instanceof Scores s && s.softmax() && b instanceof Heads v && v.layout() == HeadLayout.BHSD
                && v.heads() == s.heads() && v.headDim() == s.headDim()) {
            return new Context(s, v.projection(), false);
        }
        throw unsupported(node, "multiplying " + a.describe() + " by " + b.describe());
    }

    private Value add(NodeProto node) {
        Value a = input(node, 0);
        Value b = input(node, 1);
        Value r = addOrdered(node, a, b);
        if (r == null) {
            r = addOrdered(node, b, a);
        }
        if (r == null) {
            throw unsupported(node, "adding " + a.describe() + " and " + b.describe());
        }
        return r;
    }

    private Value addOrdered(NodeProto node, Value a, Value b) {
        String name = nodeName(node);
        if (a instanceof Affine f && f.bias() == null && b instanceof FloatConst c && c.values().length == f.out()) {
            return new Affine(f.x(), f.weight(), f.in(), f.out(), c.values(), name);
        }
        if (a instanceof Embedding e1 && b instanceof Embedding e2 && e1.width() == e2.width()) {
            List<Lookup> all = new ArrayList<>(e1.lookups());
            all.addAll(e2.lookups());
            return new Embedding(List.copyOf(all), e1.width(), name);
        }
        if (a instanceof Act x && b instanceof Act y && !(a instanceof Embedding) && !(b instanceof Embedding)
                && x.width() == y.width()) {
            return new Residual(x, y, name);
        }
        if (a instanceof NormStep s && s.stage() == NormStage.VARIANCE && b instanceof FloatConst c && c.isScalar()) {
            return new NormStep(s.x(), NormStage.VARIANCE_EPS, c.values()[0], null);
        }
        if (a instanceof NormStep s && s.stage() == NormStage.SCALED && b instanceof FloatConst c
                && c.values().length == s.x().width()) {
            return new Norm(s.x(), s.gamma(), c.values(), s.epsilon(), name);
        }
        if (a instanceof GeluStep g && g.stage() == GeluStage.ERF && isScalar(b, 1.0)) {
            return new GeluStep(g.x(), GeluStage.ONE_PLUS_ERF);
        }
        if (a instanceof Scores s && !s.softmax() && s.mask() == null && b instanceof MaskStep m && m.bias()) {
            if (!m.layout().equals(List.of("batch", "1", "1", "sequence"))) {
                throw unsupported(node, "an attention mask laid out " + m.layout() + "; a key-padding mask is "
                        + "[batch, 1, 1, sequence]");
            }
            return new Scores(s.q(), s.k(), s.heads(), s.headDim(), s.scale(), m.mask(), false);
        }
        return null;
    }

    private Value sub(NodeProto node) {
        Value a = input(node, 0);
        Value b = input(node, 1);
        if (a instanceof Act x && b instanceof NormStep m && m.stage() == NormStage.MEAN && m.x() == x) {
            return new NormStep(x, NormStage.CENTERED, 0, null);
        }
        if (isScalar(a, 1.0) && b instanceof MaskStep m && !m.inverted()) {
            return new MaskStep(m.mask(), m.layout(), true, false);
        }
        throw unsupported(node, "subtracting " + b.describe() + " from " + a.describe());
    }

    private Value mul(NodeProto node) {
        Value a = input(node, 0);
        Value b = input(node, 1);
        Value r = mulOrdered(node, a, b);
        if (r == null) {
            r = mulOrdered(node, b, a);
        }
        if (r == null) {
            throw unsupported(node, "multiplying " + a.describe() + " and " + b.describe());
        }
        return r;
    }

    private Value mulOrdered(NodeProto node, Value a, Value b) {
        if (a instanceof NormStep s && s.stage() == NormStage.NORMALIZED && b instanceof FloatConst c
                && c.values().length == s.x().width()) {
            return new NormStep(s.x(), NormStage.SCALED, s.epsilon(), c.values());
        }
        if (a instanceof Act x && b instanceof GeluStep g && g.stage() == GeluStage.ONE_PLUS_ERF && g.x() == x) {
            return new GeluStep(x, GeluStage.X_TIMES);
        }
        if (a instanceof GeluStep g && g.stage() == GeluStage.X_TIMES && isScalar(b, 0.5)) {
            return new Gelu(g.x(), nodeName(node));
        }
        if (a instanceof Act x && isScalar(b, 0.5)) {
            return new GeluStep(x, GeluStage.HALF_X);
        }
        if (a instanceof GeluStep h && h.stage() == GeluStage.HALF_X && b instanceof GeluStep g
                && g.stage() == GeluStage.ONE_PLUS_ERF && g.x() == h.x()) {
            return new Gelu(h.x(), nodeName(node));
        }
        if (a instanceof Act x && isScalar(b, 1 / Math.sqrt(2))) {
            return new GeluStep(x, GeluStage.OVER_ROOT2);
        }
        if (a instanceof MaskStep m && m.inverted() && !m.bias() && b instanceof FloatConst c && c.isScalar()
                && c.values()[0] <= -1e4f) {
            return new MaskStep(m.mask(), m.layout(), true, true);
        }
        if (a instanceof Scores s && !s.softmax() && s.mask() == null && b instanceof FloatConst c && c.isScalar()
                && c.values()[0] > 0) {
            return new Scores(s.q(), s.k(), s.heads(), s.headDim(), s.scale() * c.values()[0], null, false);
        }
        return null;
    }

    private Value div(NodeProto node) {
        Value a = input(node, 0);
        Value b = input(node, 1);
        if (a instanceof Act x && isScalar(b, Math.sqrt(2))) {
            return new GeluStep(x, GeluStage.OVER_ROOT2);
        }
        if (a instanceof NormStep c && c.stage() == NormStage.CENTERED && b instanceof NormStep s
                && s.stage() == NormStage.STD && s.x() == c.x()) {
            return new NormStep(c.x(), NormStage.NORMALIZED, s.epsilon(), null);
        }
        if (a instanceof Scores s && !s.softmax() && s.mask() == null && b instanceof FloatConst c && c.isScalar()
                && c.values()[0] > 0) {
            return new Scores(s.q(), s.k(), s.heads(), s.headDim(), s.scale() / c.values()[0], null, false);
        }
        throw unsupported(node, "dividing " + a.describe() + " by " + b.describe());
    }

    private Value pow(NodeProto node) {
        Value a = input(node, 0);
        if (a instanceof NormStep c && c.stage() == NormStage.CENTERED && isScalar(input(node, 1), 2.0)) {
            return new NormStep(c.x(), NormStage.SQUARED, 0, null);
        }
        throw unsupported(node, "raising " + a.describe() + " to a power");
    }

    private Value reduceMean(NodeProto node) {
        Value x = input(node, 0);
        long[] axes = node.getInputCount() > 1 ? longs(node, input(node, 1)) : intsAttribute(node, "axes");
        boolean lastAxis = axes.length == 1 && (axes[0] == -1 || axes[0] == 2);
        if (lastAxis && intAttribute(node, "keepdims", 1) == 1) {
            if (x instanceof Act a) {
                return new NormStep(a, NormStage.MEAN, 0, null);
            }
            if (x instanceof NormStep s && s.stage() == NormStage.SQUARED) {
                return new NormStep(s.x(), NormStage.VARIANCE, 0, null);
            }
        }
        throw unsupported(node, "mean of " + x.describe() + " over axes " + java.util.Arrays.toString(axes));
    }

    private Value sqrt(NodeProto node) {
        Value x = input(node, 0);
        if (x instanceof NormStep s && s.stage() == NormStage.VARIANCE_EPS) {
            return new NormStep(s.x(), NormStage.STD, s.epsilon(), null);
        }
        throw unsupported(node, "square root of " + x.describe());
    }

    private Value erf(NodeProto node) {
        Value x = input(node, 0);
        if (x instanceof GeluStep g && g.stage() == GeluStage.OVER_ROOT2) {
            return new GeluStep(g.x(), GeluStage.ERF);
        }
        throw unsupported(node, "erf of " + x.describe() + " (only GELU's erf(x/√2) is supported)");
    }

    private Value softmax(NodeProto node) {
        Value x = input(node, 0);
        long axis = intAttribute(node, "axis", -1);
        if (x instanceof Scores s && !s.softmax() && (axis == -1 || axis == 3)) {
            return new Scores(s.q(), s.k(), s.heads(), s.headDim(), s.scale(), s.mask(), true);
        }
        throw unsupported(node, "softmax of " + x.describe() + " on axis " + axis);
    }

    private Value layerNormalization(NodeProto node) {
        Value x = input(node, 0);
        Value gamma = input(node, 1);
        Value beta = node.getInputCount() > 2 && !node.getInput(2).isEmpty() ? input(node, 2) : null;
        long axis = intAttribute(node, "axis", -1);
        float epsilon = floatAttribute(node, "epsilon", 1e-5f);
        if (x instanceof Act a && (axis == -1 || axis == 2) && gamma instanceof FloatConst g
                && g.values().length == a.width()
                && (beta == null || beta instanceof FloatConst b && b.values().length == a.width())) {
            return new Norm(a, g.values(), beta == null ? null : ((FloatConst) beta).values(), epsilon,
                    nodeName(node));
        }
        throw unsupported(node, "layer normalisation of " + x.describe() + " on axis " + axis);
    }

    private Value geluNode(NodeProto node) {
        Value x = input(node, 0);
        String approximate = node.getAttributeList().stream().filter(a -> a.getName().equals("approximate"))
                .map(a -> a.getS().toStringUtf8()).findFirst().orElse("none");
        if (x instanceof Act a && approximate.equals("none")) {
            return new Gelu(a, nodeName(node));
        }
        throw unsupported(node, "GELU (approximate=" + approximate + ") of " + x.describe()
                + "; only the exact erf form is supported");
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private static boolean isScalar(Value v, double expected) {
        return v instanceof FloatConst c && c.isScalar()
                && Math.abs(c.values()[0] - expected) <= 1e-6 * Math.max(1, Math.abs(expected));
    }

    private List<Dim> shapeOperand(NodeProto node, Value v) {
        return switch (v) {
            case Dims d when !d.scalar() -> d.dims();
            case IntConst c when c.dims().length == 1 -> {
                List<Dim> dims = new ArrayList<>();
                for (long value : c.values()) {
                    dims.add(Dim.of(value));
                }
                yield dims;
            }
            default -> throw unsupported(node, v.describe() + " as a shape");
        };
    }

    private long[] longs(NodeProto node, Value v) {
        if (v instanceof IntConst c) {
            return c.values();
        }
        throw unsupported(node, v.describe() + " where a constant integer list is expected");
    }

    private static long intAttribute(NodeProto node, String name, long fallback) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return fallback;
    }

    private static float floatAttribute(NodeProto node, String name, float fallback) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getF();
            }
        }
        return fallback;
    }

    private static long[] intsAttribute(NodeProto node, String name) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
            }
        }
        return new long[0];
    }

    static float[] transposed(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }

    static String nodeName(NodeProto node) {
        String name = node.getName().isEmpty() ? "producing '" + node.getOutput(0) + "'" : "'" + node.getName() + "'";
        return name + " (" + node.getOpType() + ")";
    }

    /** An axis bound of Shape's start/end: negative counts from the back, then clamped to [0, rank]. */
    private static int clampAxis(long axis, int rank) {
        long at = axis < 0 ? axis + rank : axis;
        return (int) Math.max(0, Math.min(rank, at));
    }

    /** A constant's dimension as an int, or a clear error for a corrupt one. */
    private int intDim(NodeProto node, long dim) {
        if (dim < 0 || dim > Integer.MAX_VALUE) {
            throw new MalformedInputException(source, "node " + nodeName(node) + ": dimension " + dim
                    + " of a constant is out of range");
        }
        return (int) dim;
    }

    private NotSupportedException unsupported(NodeProto node, String what) {
        return new NotSupportedException(CALL, source + ": node " + nodeName(node) + ": " + what);
    }
}

package org.lacuna.api.io;

import java.util.ArrayList;
import java.util.List;
import org.lacuna.runtime.error.MalformedInputException;
import org.lacuna.runtime.pointcloud.PointCloud;

/**
 * Where each value of a PCD point goes. A point is a sequence of slots, one per (field, element); each slot fills
 * x, y, z or a channel, is padding ({@code _} fields), or is a packed colour: {@code rgb} (a float whose bits are
 * 0x00RRGGBB) and {@code rgba} (uint32 0xAARRGGBB) unpack into the channels red, green, blue (and alpha).
 * Fields with COUNT k > 1 become channels {@code name_0 .. name_(k-1)}.
 */
final class PcdLayout {
    enum Kind { X, Y, Z, CHANNEL, RGB, RGBA, SKIP }

    private final List<Slot> slots;
    private final List<String> channelNames;
    private float[] x;
    private float[] y;
    private float[] z;
    private float[][] channels;

    record Slot(Kind kind, ScalarType type, int field, int element, int channel) {
    }

    private PcdLayout(List<Slot> slots, List<String> channelNames) {
        this.slots = slots;
        this.channelNames = channelNames;
    }

    static PcdLayout of(String source, PcdHeader header) {
        List<Slot> slots = new ArrayList<>();
        List<String> names = new ArrayList<>();
        boolean[] axes = new boolean[3];
        List<PcdField> fields = header.fields();
        for (int f = 0; f < fields.size(); f++) {
            PcdField field = fields.get(f);
            ScalarType type = field.scalarType();
            int axis = switch (field.name()) {
                case "x" -> 0;
                case "y" -> 1;
                case "z" -> 2;
                default -> -1;
            };
            if (axis >= 0) {
                if (field.count() != 1) {
                    throw new MalformedInputException(source, "field '" + field.name() + "' has COUNT "
                            + field.count() + "; a coordinate has one value");
                }
                axes[axis] = true;
                slots.add(new Slot(Kind.values()[axis], type, f, 0, -1));
            } else if (field.name().equals("_")) {
                for (int e = 0; e < field.count(); e++) {
                    slots.add(new Slot(Kind.SKIP, type, f, e, -1));
                }
            } else if ((field.name().equals("rgb") || field.name().equals("rgba")) && field.count() == 1
                    && field.size() == 4) {
                boolean alpha = field.name().equals("rgba");
                slots.add(new Slot(alpha ? Kind.RGBA : Kind.RGB, type, f, 0, names.size()));
                names.addAll(alpha ? List.of("red", "green", "blue", "alpha") : List.of("red", "green", "blue"));
            } else {
                for (int e = 0; e < field.count(); e++) {
                    slots.add(new Slot(Kind.CHANNEL, type, f, e, names.size()));
                    names.add(field.count() == 1 ? field.name() : field.name() + "_" + e);
                }
            }
        }
        for (int a = 0; a < 3; a++) {
            if (!axes[a]) {
                throw new MalformedInputException(source, "has no '" + "xyz".charAt(a) + "' field; its fields are "
                        + fields.stream().map(PcdField::name).toList());
            }
        }
        if (names.stream().distinct().count() != names.size()) {
            throw new MalformedInputException(source, "its fields give the channels " + names
                    + ", which repeat a name");
        }
        return new PcdLayout(List.copyOf(slots), List.copyOf(names));
    }

    List<Slot> slots() {
        return slots;
    }

    void allocate(int points) {
        x = new float[points];
        y = new float[points];
        z = new float[points];
        channels = new float[channelNames.size()][points];
    }

    /** Stores a value of an x, y, z, channel or padding slot; colour slots go through {@link #storeColour}. */
    void store(Slot slot, int point, double value) {
        switch (slot.kind()) {
            case X -> x[point] = (float) value;
            case Y -> y[point] = (float) value;
            case Z -> z[point] = (float) value;
            case CHANNEL -> channels[slot.channel()][point] = (float) value;
            case RGB, RGBA -> throw new IllegalStateException("a colour slot takes packed bits");
            case SKIP -> {
            }
        }
    }

    void storeColour(Slot slot, int point, int bits) {
        int c = slot.channel();
        channels[c][point] = (bits >>> 16) & 0xFF;
        channels[c + 1][point] = (bits >>> 8) & 0xFF;
        channels[c + 2][point] = bits & 0xFF;
        if (slot.kind() == Kind.RGBA) {
            channels[c + 3][point] = bits >>> 24;
        }
    }

    PointCloud build() {
        return PointCloud.of(x, y, z, channelNames, channels);
    }
}

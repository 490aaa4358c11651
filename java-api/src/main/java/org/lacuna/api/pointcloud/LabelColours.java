package org.lacuna.api.pointcloud;

import java.util.List;

/**
 * Colours and names for segmentation labels. With SemanticKITTI's 19 evaluated classes, their names and the colours
 * of the SemanticKITTI API's colour map (given there as BGR, here as RGB); with any other class count, evenly spread
 * hues and the names {@code class 0}, {@code class 1}, ...
 */
public final class LabelColours {
    /** SemanticKITTI's evaluated classes in training order (label 0 = car, as its learning map numbers them). */
    public static final List<String> SEMANTIC_KITTI_NAMES = List.of("car", "bicycle", "motorcycle", "truck",
            "other-vehicle", "person", "bicyclist", "motorcyclist", "road", "parking", "sidewalk", "other-ground",
            "building", "fence", "vegetation", "trunk", "terrain", "pole", "traffic-sign");

    private static final int[] SEMANTIC_KITTI_RGB = {0x6496F5, 0x64E6F5, 0x1E3C96, 0x501EB4, 0x0000FF, 0xFF1E1E,
            0xFF28C8, 0x961E5A, 0xFF00FF, 0xFF96FF, 0x4B004B, 0xAF004B, 0xFFC800, 0xFF7832, 0x00AF00, 0x873C00,
            0x96F050, 0xFFF096, 0xFF0000};

    private LabelColours() {
    }

    /** Packed 0xRRGGBB per label. */
    public static int[] forClasses(int classes) {
        if (classes == SEMANTIC_KITTI_RGB.length) {
            return SEMANTIC_KITTI_RGB.clone();
        }
        int[] colours = new int[classes];
        for (int c = 0; c < classes; c++) {
            // Golden-ratio hue steps keep neighbouring labels apart for any count.
            float hue = (float) ((c * 0.618033988749895) % 1.0);
            colours[c] = hsv(hue, 0.75, 0.95);
        }
        return colours;
    }

    /** Packed 0xRRGGBB of a hue in [0, 1) at the given saturation and value (the usual HSV hexcone). */
    private static int hsv(double hue, double saturation, double value) {
        double h = hue * 6;
        int sector = (int) Math.floor(h) % 6;
        double f = h - Math.floor(h);
        double p = value * (1 - saturation);
        double q = value * (1 - saturation * f);
        double t = value * (1 - saturation * (1 - f));
        double[] rgb = switch (sector) {
            case 0 -> new double[] {value, t, p};
            case 1 -> new double[] {q, value, p};
            case 2 -> new double[] {p, value, t};
            case 3 -> new double[] {p, q, value};
            case 4 -> new double[] {t, p, value};
            default -> new double[] {value, p, q};
        };
        return (int) Math.round(rgb[0] * 255) << 16 | (int) Math.round(rgb[1] * 255) << 8 | (int) Math.round(rgb[2] * 255);
    }

    /** The class's name: SemanticKITTI's for 19 classes, else {@code class N}. */
    public static String name(int label, int classes) {
        return classes == SEMANTIC_KITTI_NAMES.size() && label >= 0 && label < classes
                ? SEMANTIC_KITTI_NAMES.get(label) : "class " + label;
    }
}

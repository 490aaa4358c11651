/**
 * Lacuna's Java API: sessions and tensors, layers, networks, model and point-cloud readers, sentence embedding, and
 * the {@code lacuna} command line ({@code org.lacuna.cli}, not exported: run it, do not link against it).
 */
module org.lacuna.api {
    requires transitive org.lacuna.runtime;
    requires ai.djl.tokenizers;
    requires com.fasterxml.jackson.databind;
    requires com.google.protobuf;
    // An automatic module (the jar's Automatic-Module-Name): ONNX-ML's generated protobuf classes.
    requires org.tribuo.util.onnx;
    requires com.ning.compress.lzf;
    requires info.picocli;
    // The choosing thread's CPU time (ThreadMXBean), reported beside the wall time layers spend choosing.
    requires java.management;

    exports org.lacuna.api;
    exports org.lacuna.api.io;
    exports org.lacuna.api.layers;
    exports org.lacuna.api.models;
    exports org.lacuna.api.onnx;
    exports org.lacuna.api.pointcloud;
    exports org.lacuna.api.text;

    // picocli reads the commands' annotated fields.
    opens org.lacuna.cli to info.picocli;
    // lacuna bench comes from the bench module (on the class path) through this service.
    uses org.lacuna.cli.CommandExtension;
}

package org.lacuna.runtime.internal.nativelib;

/** The places a native library is looked for, in the fixed order they are tried. */
public enum SearchStep {
    /** A file or folder named by {@code lacuna.<lib>.path} or {@code LACUNA_<LIB>_PATH}. */
    EXPLICIT_PATH("explicit path"),
    /** {@code $CUDA_HOME/lib64}, {@code $CUDA_HOME/lib}, then the same under {@code $CUDA_PATH}. */
    CUDA_HOME("CUDA_HOME / CUDA_PATH"),
    /** {@code /usr/local/cuda/lib64}. */
    DEFAULT_CUDA("default CUDA install"),
    /** Each {@code LD_LIBRARY_PATH} entry. */
    LD_LIBRARY_PATH("LD_LIBRARY_PATH"),
    /** The {@code nvidia/<package>/lib} folders of pip's NVIDIA wheels in Python site-packages. */
    PYTHON_SITE_PACKAGES("Python site-packages"),
    /** The dynamic loader's own folders: {@code /etc/ld.so.conf} and the system library folders. */
    SYSTEM_FOLDERS("system library folders"),
    /** A copy shipped inside a jar on the class path (NVRTC from org.bytedeco:cuda-redist). */
    BUNDLED_JAR("bundled in a jar"),
    /** A setting that decides how a found library is bound (e.g. {@code lacuna.nvrtc.binding}). */
    BINDING_SETTING("binding setting");

    private final String label;

    SearchStep(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}

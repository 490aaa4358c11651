package org.lacuna.runtime.internal.nativelib;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.function.UnaryOperator;

/**
 * Everything a library search reads from the outside world: system properties, environment variables and the fixed
 * folders of the machine. Injectable so tests can point every step at temporary folders.
 *
 * @param property             system property lookup (null when unset)
 * @param environment          environment variable lookup (null when unset)
 * @param userHome             the home folder, for {@code ~/.local/lib/python3*}
 * @param defaultCudaHome      the usual CUDA install, {@code /usr/local/cuda}
 * @param pythonInstallRoots   folders holding system Pythons' {@code python3*} folders: {@code /usr/lib},
 *                             {@code /usr/local/lib}
 * @param systemLibraryFolders the dynamic loader's folders, searched last
 */
public record SearchEnvironment(
        UnaryOperator<String> property,
        UnaryOperator<String> environment,
        Path userHome,
        Path defaultCudaHome,
        List<Path> pythonInstallRoots,
        List<Path> systemLibraryFolders) {

    private static final Path DEFAULT_CUDA_HOME = Path.of("/usr/local/cuda");
    private static final List<Path> PYTHON_INSTALL_ROOTS = List.of(Path.of("/usr/lib"), Path.of("/usr/local/lib"));

    public SearchEnvironment {
        Objects.requireNonNull(property, "property");
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(userHome, "userHome");
        Objects.requireNonNull(defaultCudaHome, "defaultCudaHome");
        pythonInstallRoots = List.copyOf(pythonInstallRoots);
        systemLibraryFolders = List.copyOf(systemLibraryFolders);
    }

    /** This JVM's properties and environment and this machine's folders. */
    public static SearchEnvironment system() {
        return new SearchEnvironment(System::getProperty, System::getenv,
                Path.of(System.getProperty("user.home", "/")), DEFAULT_CUDA_HOME, PYTHON_INSTALL_ROOTS,
                SystemLibraryFolders.fromLoaderConfiguration());
    }

    /** The given environment and properties (copied) with this machine's fixed folders. */
    public static SearchEnvironment of(Map<String, String> environment, Properties properties) {
        Map<String, String> env = Map.copyOf(environment);
        Properties props = new Properties();
        props.putAll(properties);
        return new SearchEnvironment(props::getProperty, env::get,
                Path.of(System.getProperty("user.home", "/")), DEFAULT_CUDA_HOME, PYTHON_INSTALL_ROOTS,
                SystemLibraryFolders.fromLoaderConfiguration());
    }

    /** The same settings with other fixed folders, so a test sees none of the real machine's libraries. */
    public SearchEnvironment withFolders(Path userHome, Path defaultCudaHome, List<Path> pythonInstallRoots,
                                         List<Path> systemLibraryFolders) {
        return new SearchEnvironment(property, environment, userHome, defaultCudaHome, pythonInstallRoots,
                systemLibraryFolders);
    }

    /** A property if set (and not blank), else the environment variable. */
    public Optional<String> setting(String propertyName, String environmentName) {
        String value = property.apply(propertyName);
        if (value != null && !value.isBlank()) {
            return Optional.of(value.trim());
        }
        return variable(environmentName);
    }

    /** An environment variable, if set and not blank. */
    public Optional<String> variable(String name) {
        String value = environment.apply(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }
}

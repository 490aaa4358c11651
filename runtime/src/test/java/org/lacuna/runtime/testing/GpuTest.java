package org.lacuna.runtime.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that needs a GPU: tagged {@code gpu} (the bundle selects these) and disabled, with the
 * reason, where the CUDA backend cannot open, so runners report every test in it as skipped.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag(GpuSupport.TAG)
@ExtendWith(GpuCondition.class)
public @interface GpuTest {
}

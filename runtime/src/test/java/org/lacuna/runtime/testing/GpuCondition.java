package org.lacuna.runtime.testing;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.lacuna.runtime.backend.BackendAvailability;
import org.lacuna.runtime.internal.cuda.CudaBackendProvider;

/** Enables {@link GpuTest} classes only where the CUDA backend's probe finds a GPU. */
public final class GpuCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        BackendAvailability availability = new CudaBackendProvider().probe();
        return availability.available()
                ? ConditionEvaluationResult.enabled("GPU: " + availability.reason())
                : ConditionEvaluationResult.disabled("no GPU: " + availability.reason());
    }
}

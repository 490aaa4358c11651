// layer_norm.cu (T_IN, T_OUT given) in the emulator against the double-precision formula.
#include "gen/layer_norm.cu"
#include "testutil.h"
typedef LacunaStorage<LACUNA_DTYPE_ID(T_IN)> InS;
typedef LacunaStorage<LACUNA_DTYPE_ID(T_OUT)> OutS;
int main() {
    rng.seed(5);
    for (long long cols : {1LL, 7LL, 256LL, 1000LL, 3000LL}) {
        long long rows = 5;
        std::vector<typename InS::type> x(rows * cols);
        std::vector<float> xf(rows * cols), gamma(cols), beta(cols);
        for (size_t i = 0; i < x.size(); i++) { x[i] = InS::store((float)uniform(-3, 3) + 2.0f); xf[i] = InS::load(x[i]); }
        for (auto& g : gamma) g = (float)uniform(0.5, 1.5);
        for (auto& b : beta) b = (float)uniform(-1, 1);
        std::vector<typename OutS::type> y(rows * cols);
        bool with_beta = cols != 7;
        emu_launch(3, 1, 256, 0, [&] { layer_norm(x.data(), gamma.data(), with_beta ? beta.data() : nullptr, y.data(), rows, cols, 1e-5f); });
        for (long long r = 0; r < rows; r++) {
            double mean = 0, var = 0;
            for (long long c = 0; c < cols; c++) mean += xf[r * cols + c];
            mean /= cols;
            for (long long c = 0; c < cols; c++) var += (xf[r * cols + c] - mean) * (xf[r * cols + c] - mean);
            var /= cols;
            for (long long c = 0; c < cols; c++) {
                double want = (xf[r * cols + c] - mean) / std::sqrt(var + 1e-5) * gamma[c] + (with_beta ? beta[c] : 0);
                double got = OutS::load(y[r * cols + c]);
                CHECK(std::fabs(got - want) <= 1e-2 * std::fabs(want) + 1e-4, "cols %lld r %lld c %lld got %f want %f", cols, r, c, got, want);
            }
        }
    }
    printf(failures ? "FAILED\n" : "ok\n");
    return failures != 0;
}

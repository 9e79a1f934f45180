package dev.armor.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.execution.RestartBudget.Decision;
import dev.armor.execution.RestartBudget.Decision.GiveUp;
import dev.armor.execution.RestartBudget.Decision.RestartAfter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The restart policy on its own: time is passed in, so each test states when the process exited and how long it ran. */
class RestartBudgetTest {

  private static final Duration WINDOW = Duration.ofSeconds(60);
  private static final Duration INITIAL = Duration.ofMillis(100);
  private static final Duration MAX = Duration.ofSeconds(1);
  private static final Duration QUICK = Duration.ofMillis(10);
  private static final Duration STABLE = RestartBudget.STABLE_AFTER;

  /** A clock of the test's own, in nanoseconds; it starts far from zero, as {@link System#nanoTime} may. */
  private long nowNanos = 7_000_000_000_000L;

  // ---- stable runs -------------------------------------------------------------------------------

  @Test
  void onExit_afterAStableRun_restartsWithZeroDelayEveryTime() {
    RestartBudget budget = new RestartBudget(10, WINDOW, INITIAL, MAX);

    List<Decision> decisions = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      decisions.add(exitAfterRunning(budget, Duration.ofSeconds(3)));
    }

    assertThat(decisions)
        .containsExactly(
            new RestartAfter(Duration.ZERO, 1),
            new RestartAfter(Duration.ZERO, 2),
            new RestartAfter(Duration.ZERO, 3),
            new RestartAfter(Duration.ZERO, 4),
            new RestartAfter(Duration.ZERO, 5));
  }

  @Test
  void onExit_afterRunningExactlyStableAfter_countsAsStable() {
    RestartBudget budget = new RestartBudget(10, WINDOW, INITIAL, MAX);
    exitAfterRunning(budget, QUICK);
    exitAfterRunning(budget, QUICK);

    assertThat(exitAfterRunning(budget, STABLE)).isEqualTo(new RestartAfter(Duration.ZERO, 3));
  }

  // ---- crash loops -------------------------------------------------------------------------------

  @Test
  void onExit_quickFailuresInARow_backOffZeroThenInitialDoublingUpToMax() {
    RestartBudget budget = new RestartBudget(20, WINDOW, INITIAL, MAX);

    List<Duration> delays = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      delays.add(((RestartAfter) exitAfterRunning(budget, QUICK)).delay());
    }

    assertThat(delays).containsExactly(millis(0), millis(100), millis(200), millis(400), millis(800), millis(1000),
        millis(1000), millis(1000));
  }

  @Test
  void onExit_runJustShortOfStableAfter_isAQuickFailure() {
    RestartBudget budget = new RestartBudget(10, WINDOW, INITIAL, MAX);
    exitAfterRunning(budget, QUICK);

    assertThat(exitAfterRunning(budget, STABLE.minusNanos(1))).isEqualTo(new RestartAfter(INITIAL, 2));
  }

  @Test
  void onExit_aStableRun_resetsTheBackoff() {
    RestartBudget budget = new RestartBudget(20, WINDOW, INITIAL, MAX);
    exitAfterRunning(budget, QUICK); // 0
    exitAfterRunning(budget, QUICK); // 100 ms
    exitAfterRunning(budget, QUICK); // 200 ms

    Decision afterStableRun = exitAfterRunning(budget, Duration.ofSeconds(30));
    Decision firstQuickAgain = exitAfterRunning(budget, QUICK);
    Decision secondQuickAgain = exitAfterRunning(budget, QUICK);

    assertThat(afterStableRun).isEqualTo(new RestartAfter(Duration.ZERO, 4));
    assertThat(firstQuickAgain).isEqualTo(new RestartAfter(Duration.ZERO, 5));
    assertThat(secondQuickAgain).isEqualTo(new RestartAfter(INITIAL, 6));
  }

  @Test
  void onExit_longCrashLoop_backoffReachesMaxEvenWhenMaxIsAMillionTimesInitial() {
    Duration max = Duration.ofHours(1);
    RestartBudget budget = new RestartBudget(100, Duration.ofDays(1), Duration.ofMillis(1), max);

    Duration last = Duration.ZERO;
    for (int i = 0; i < 40; i++) {
      last = ((RestartAfter) exitAfterRunning(budget, QUICK)).delay();
    }

    assertThat(last).isEqualTo(max);
  }

  @Test
  void onExit_longCrashLoopWithHugeBackoffs_neverGivesANegativeDelay() {
    Duration initial = Duration.ofMillis(Long.MAX_VALUE / 8);
    Duration max = Duration.ofMillis(Long.MAX_VALUE);
    RestartBudget budget = new RestartBudget(100, Duration.ofDays(1), initial, max);

    for (int i = 0; i < 10; i++) {
      Duration delay = ((RestartAfter) budget.onExit(nowNanos, 0)).delay();
      assertThat(delay).as("delay of restart %d", i + 1).isBetween(Duration.ZERO, max);
    }
  }

  @Test
  void onExit_zeroInitialBackoff_restartsAtOnceThroughoutACrashLoop() {
    RestartBudget budget = new RestartBudget(10, WINDOW, Duration.ZERO, Duration.ZERO);

    for (int i = 1; i <= 5; i++) {
      assertThat(exitAfterRunning(budget, QUICK)).isEqualTo(new RestartAfter(Duration.ZERO, i));
    }
  }

  // ---- the window --------------------------------------------------------------------------------

  @Test
  void onExit_afterMaxRestartsWithinTheWindow_givesUp() {
    RestartBudget budget = new RestartBudget(3, WINDOW, INITIAL, MAX);
    for (int i = 0; i < 3; i++) {
      assertThat(exitAfterRunning(budget, STABLE)).isInstanceOf(RestartAfter.class);
    }

    assertThat(exitAfterRunning(budget, STABLE)).isEqualTo(new GiveUp(3));
    assertThat(exitAfterRunning(budget, STABLE)).as("still within the window").isEqualTo(new GiveUp(3));
  }

  @Test
  void onExit_maxRestartsZero_givesUpAtTheFirstExit() {
    RestartBudget budget = new RestartBudget(0, WINDOW, INITIAL, MAX);

    assertThat(exitAfterRunning(budget, Duration.ofMinutes(5))).isEqualTo(new GiveUp(0));
  }

  @Test
  void onExit_restartsOlderThanTheWindow_noLongerCount() {
    Duration window = Duration.ofSeconds(10);
    RestartBudget budget = new RestartBudget(2, window, Duration.ZERO, Duration.ZERO);
    long start = nowNanos;

    assertThat(budget.onExit(start, 0)).isEqualTo(new RestartAfter(Duration.ZERO, 1));
    assertThat(budget.onExit(start + seconds(1), 0)).isEqualTo(new RestartAfter(Duration.ZERO, 2));
    assertThat(budget.onExit(start + seconds(5), 0)).isEqualTo(new GiveUp(2));
    // The restart at 0 s has left the window; the one at 1 s has not.
    assertThat(budget.onExit(start + window.toNanos() + 1, 0)).isEqualTo(new RestartAfter(Duration.ZERO, 2));
    // The restart at 1 s is exactly one window old: it still counts.
    assertThat(budget.onExit(start + seconds(1) + window.toNanos(), 0)).isEqualTo(new GiveUp(2));
    // Long after, the window is empty again.
    assertThat(budget.onExit(start + seconds(100), 0)).isEqualTo(new RestartAfter(Duration.ZERO, 1));
  }

  // ---- settings ----------------------------------------------------------------------------------

  @Test
  void new_negativeMaxRestarts_throwsNamingTheSettingAndValue() {
    assertThatThrownBy(() -> new RestartBudget(-1, WINDOW, INITIAL, MAX))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("max-restarts")
        .hasMessageContaining("-1");
  }

  @Test
  void new_zeroWindow_throwsNamingTheSettingAndValue() {
    assertThatThrownBy(() -> new RestartBudget(3, Duration.ZERO, INITIAL, MAX))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("restart-window")
        .hasMessageContaining(Duration.ZERO.toString());
  }

  @Test
  void new_negativeWindow_throwsNamingTheSettingAndValue() {
    Duration negative = Duration.ofSeconds(-5);

    assertThatThrownBy(() -> new RestartBudget(3, negative, INITIAL, MAX))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("restart-window")
        .hasMessageContaining(negative.toString());
  }

  @Test
  void new_negativeInitialBackoff_throwsNamingTheSettingAndValue() {
    Duration negative = Duration.ofMillis(-100);

    assertThatThrownBy(() -> new RestartBudget(3, WINDOW, negative, MAX))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("backoff")
        .hasMessageContaining(negative.toString());
  }

  @Test
  void new_maxBackoffBelowInitial_throwsNamingTheSettingAndBothValues() {
    Duration initial = Duration.ofSeconds(2);
    Duration max = Duration.ofSeconds(1);

    assertThatThrownBy(() -> new RestartBudget(3, WINDOW, initial, max))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("backoff")
        .hasMessageContaining(initial.toString())
        .hasMessageContaining(max.toString());
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** The process ran {@code ran} from now, then exited: moves the clock on and asks the budget. */
  private Decision exitAfterRunning(RestartBudget budget, Duration ran) {
    nowNanos += ran.toNanos();
    return budget.onExit(nowNanos, ran.toNanos());
  }

  private static Duration millis(long millis) {
    return Duration.ofMillis(millis);
  }

  private static long seconds(long seconds) {
    return Duration.ofSeconds(seconds).toNanos();
  }
}

package dev.armor.ftm.lease;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A witness's promises, on a clock the test moves (nanoseconds from an arbitrary origin). */
class WitnessBookTest {
  private static final long MS = 1_000_000L;
  private static final long T0 = 9_000_000L * MS;
  private static final long LEASE = 1_500 * MS;
  private static final long MARGIN = 150 * MS;
  private static final WitnessBook.Holder N1 = new WitnessBook.Holder("n1", "127.0.0.2:25520", 11);

  private final WitnessBook book = new WitnessBook(T0, LEASE, MARGIN);

  @Test
  void aGrantedNode_isNotLost_untilItsLeasePlusTheMarginPassedWithoutARenewal() {
    book.renew(N1, LEASE, T0 + 1_000 * MS);

    assertThat(book.vote(N1, T0 + 1_000 * MS + LEASE + MARGIN - 1).lost()).isFalse();
    assertThat(book.silent(T0 + 1_000 * MS + LEASE + MARGIN - 1)).isEmpty();
    assertThat(book.silent(T0 + 1_000 * MS + LEASE + MARGIN)).containsExactly(N1);
    WitnessBook.Verdict verdict = book.vote(N1, T0 + 1_000 * MS + LEASE + MARGIN);
    assertThat(verdict.lost()).isTrue();
    assertThat(verdict.silentNanos()).isEqualTo(LEASE + MARGIN);
  }

  @Test
  void aNodeDeclaredLost_isNeverGrantedAgain() {
    book.renew(N1, LEASE, T0);
    assertThat(book.vote(N1, T0 + 2_000 * MS).lost()).isTrue();

    assertThat(book.renew(N1, LEASE, T0 + 2_001 * MS)).hasValueSatisfying(why -> assertThat(why).contains("lost"));
    assertThat(book.vote(N1, T0 + 2_002 * MS).lost()).isTrue();
    assertThat(book.silent(T0 + 9_000 * MS)).isEmpty();
    assertThat(book.firstRefusal(N1)).isTrue();
    assertThat(book.firstRefusal(N1)).isFalse();
  }

  @Test
  void aVoteThatSaysNo_changesNothing() {
    book.renew(N1, LEASE, T0);
    assertThat(book.vote(N1, T0 + 100 * MS).lost()).isFalse();

    assertThat(book.renew(N1, LEASE, T0 + 200 * MS)).isEmpty();
  }

  @Test
  void aNodeThisWitnessNeverGranted_isLostOnlyOnceTheWitnessHasBeenUpForALeasePlusTheMargin() {
    // Its memory starts with it: the node may hold a lease granted just before this witness started.
    assertThat(book.vote(N1, T0 + LEASE + MARGIN - 1).lost()).isFalse();
    assertThat(book.vote(N1, T0 + LEASE + MARGIN).lost()).isTrue();
    assertThat(book.renew(N1, LEASE, T0 + LEASE + MARGIN + 1)).isPresent();
  }

  @Test
  void theLeaseTheHolderAskedFor_isTheOneTheWitnessWaitsOut() {
    book.renew(N1, 4_000 * MS, T0);

    assertThat(book.vote(N1, T0 + 4_000 * MS + MARGIN - 1).lost()).isFalse();
    assertThat(book.vote(N1, T0 + 4_000 * MS + MARGIN).lost()).isTrue();
  }

  @Test
  void anotherIncarnationOfTheNode_isAnotherHolder() {
    book.renew(N1, LEASE, T0);
    book.vote(N1, T0 + 5_000 * MS);
    WitnessBook.Holder restarted = new WitnessBook.Holder("n1", "127.0.0.2:25520", 12);

    assertThat(book.renew(restarted, LEASE, T0 + 5_001 * MS)).isEmpty();
  }

  @Test
  void aFullBook_takesNoNewHolder_andForgetsNoPromise() {
    for (int i = 0; i < WitnessBook.MAX_HOLDERS; i++) {
      assertThat(book.renew(new WitnessBook.Holder("n" + i, "h:" + i, i), LEASE, T0)).isEmpty();
    }
    WitnessBook.Holder extra = new WitnessBook.Holder("x", "h:x", -1);

    assertThat(book.renew(extra, LEASE, T0)).isPresent();
    assertThat(book.vote(new WitnessBook.Holder("n0", "h:0", 0), T0 + 100 * MS).lost()).isFalse();
    book.forget("h:0", 0);
    assertThat(book.renew(extra, LEASE, T0 + 1)).isEmpty();
  }

  @Test
  void aWitnessThatWasPausedItself_declaresNothingLost_untilALeaseAfterThePause() {
    long interval = 300 * MS;
    book.renew(N1, LEASE, T0);
    book.ticked(T0, interval);
    book.ticked(T0 + 300 * MS, interval);
    long resumed = T0 + 2_500 * MS; // the whole host stood still for two seconds: N1 could not renew either
    book.ticked(resumed, interval);

    assertThat(book.silent(resumed)).isEmpty();
    assertThat(book.vote(N1, resumed).lost()).isFalse();
    assertThat(book.vote(N1, resumed + LEASE + MARGIN - 1).lost()).isFalse();
    assertThat(book.vote(N1, resumed + LEASE + MARGIN).lost()).isTrue(); // still silent a whole lease after it
  }
}

package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.armor.relay.internal.HalfClose.ToServer;
import org.junit.jupiter.api.Test;

class HalfCloseTest {

  private final HalfClose halfClose = new HalfClose();

  @Test
  void bothDirectionsDone_onlyWhenTheFinWentOut_theServersCameIn_andTheAppsOutputIsShut() {
    halfClose.onAppEnded();
    assertThat(halfClose.toServer()).isEqualTo(ToServer.APP_ENDED);
    halfClose.onFinSent();
    halfClose.onServerFin();
    assertThat(halfClose.linkDone()).isTrue();
    assertThat(halfClose.bothDone()).as("the app's output is not shut yet").isFalse();
    halfClose.onAppOutputShut();
    assertThat(halfClose.bothDone()).isTrue();
  }

  @Test
  void aNewLink_hasSeenNeitherFin_butTheAppStillEndedItsOutput() {
    halfClose.onAppEnded();
    halfClose.onFinSent();
    halfClose.onServerFin();
    halfClose.onAppOutputShut();

    halfClose.onNewLink();

    assertThat(halfClose.toServer()).as("the FIN must go out again on the new link").isEqualTo(ToServer.APP_ENDED);
    assertThat(halfClose.appEnded()).isTrue();
    assertThat(halfClose.finSent()).isFalse();
    assertThat(halfClose.serverFinReceived()).isFalse();
    assertThat(halfClose.appOutputShut()).as("the app's input stays shut").isTrue();
    assertThat(halfClose.linkDone()).isFalse();
  }

  @Test
  void anAdoptingApp_opensBothOfItsDirections() {
    halfClose.onAppEnded();
    halfClose.onAppOutputShut();

    halfClose.onNewApp();

    assertThat(halfClose.toServer()).isEqualTo(ToServer.OPEN);
    assertThat(halfClose.appOutputShut()).isFalse();
  }

  @Test
  void aFinBeforeTheAppEndedItsOutput_isABug() {
    assertThatThrownBy(halfClose::onFinSent).isInstanceOf(IllegalStateException.class);
    assertThat(halfClose.toServer()).isEqualTo(ToServer.OPEN);
  }

  @Test
  void theAppEndingTwice_keepsAFinAlreadySent() {
    halfClose.onAppEnded();
    halfClose.onFinSent();
    halfClose.onAppEnded();
    assertThat(halfClose.finSent()).isTrue();
  }
}

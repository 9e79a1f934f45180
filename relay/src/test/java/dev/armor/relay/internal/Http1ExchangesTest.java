package dev.armor.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.armor.relay.internal.Http1Exchanges.AtLoss;
import dev.armor.relay.internal.Http1Exchanges.Idle;
import dev.armor.relay.internal.Http1Exchanges.Resend;
import dev.armor.relay.internal.Http1Exchanges.Unavailable;
import dev.armor.relay.internal.Http1Exchanges.Unhidable;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** What {@link Http1Exchanges} lets the relay do at a server's loss, exchange by exchange. */
class Http1ExchangesTest {

  private static final String GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

  private final Http1Exchanges http = new Http1Exchanges(64 * 1024);

  @Test
  void aRequestInFlight_isSentAgain_exactlyItsBytes() {
    client(GET);
    assertThat(resent()).isEqualTo(GET);
  }

  @Test
  void answeredRequests_areNotSentAgain_andAConnectionBetweenExchangesIsIdle() {
    client(GET);
    server(OK);
    assertThat(http.atLoss()).isInstanceOf(Idle.class);
    String second = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    client(second);
    assertThat(resent()).isEqualTo(second);
  }

  @Test
  void aPostInFlight_isAnswered503AndNeverSentTwice() {
    client("GET /a HTTP/1.1\r\n\r\n");
    server(OK);
    client("POST /orders HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    AtLoss verdict = http.atLoss();
    assertThat(verdict).isInstanceOf(Unavailable.class);
    String response = new String(((Unavailable) verdict).response(), StandardCharsets.UTF_8);
    assertThat(response).startsWith("HTTP/1.1 503 Service Unavailable\r\n").contains("Connection: close\r\n")
        .contains("POST /orders");
    int length = Integer.parseInt(response.replaceFirst("(?s).*Content-Length: (\\d+).*", "$1"));
    assertThat(response.substring(response.indexOf("\r\n\r\n") + 4).getBytes(StandardCharsets.UTF_8)).hasSize(length);
  }

  @Test
  void aPartlyDeliveredAnswer_cannotBeHidden() {
    client(GET);
    server("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel");
    assertThat(http.atLoss()).isInstanceOf(Unhidable.class);
  }

  @Test
  void anAnswerThatEndsWithTheConnection_partlyDelivered_cannotBeHidden() {
    client(GET);
    server("HTTP/1.0 200 OK\r\n\r\nsome");
    assertThat(http.atLoss()).isInstanceOf(Unhidable.class);
  }

  @Test
  void chunkedBodiesBothWays_areFramed() {
    String put = "PUT /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nTrailer: t\r\n\r\n";
    client(put);
    server("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    assertThat(http.atLoss()).isInstanceOf(Idle.class);
    client(put);
    assertThat(resent()).isEqualTo(put);
  }

  @Test
  void pipelinedRequests_onlyTheUnansweredAreSentAgain() {
    String second = "GET /b HTTP/1.1\r\n\r\n";
    String third = "DELETE /c HTTP/1.1\r\n\r\n";
    client(GET + second + third);
    server(OK);
    Resend resend = (Resend) http.atLoss();
    assertThat(new String(resend.requests(), StandardCharsets.ISO_8859_1)).isEqualTo(second + third);
    assertThat(resend.count()).isEqualTo(2);
  }

  @Test
  void answersWithoutABody_endAtTheirHead() {
    client("HEAD /a HTTP/1.1\r\n\r\n");
    server("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    assertThat(http.atLoss()).isInstanceOf(Idle.class);
    client(GET);
    server("HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n");
    assertThat(http.atLoss()).isInstanceOf(Idle.class);
  }

  @Test
  void anInterimAnswer_leavesTheRequestOutstanding() {
    client("PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    server("HTTP/1.1 100 Continue\r\n\r\n");
    client("abc");
    assertThat(resent()).endsWith("\r\n\r\nabc");
    Http1Exchanges post = new Http1Exchanges(1024);
    post.clientSent(buf("POST /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
    post.serverSent(buf("HTTP/1.1 100 Continue\r\n\r\n"));
    assertThat(post.atLoss()).isInstanceOf(Unavailable.class);
  }

  @Test
  void aSwitchedProtocol_cannotBeContinuedByAnotherInstance() {
    client("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    server("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
    client("\u0081\u0005hello");
    assertThat(http.atLoss()).isInstanceOf(Unhidable.class);
  }

  @Test
  void anotherProtocol_isLeftToTheGenericRule() {
    client("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    assertThat(http.atLoss()).isNull();
    assertThat(http.isHttp()).isFalse();
    Http1Exchanges serverFirst = new Http1Exchanges(1024);
    serverFirst.serverSent(buf("220 smtp ready\r\n"));
    serverFirst.clientSent(buf("HELO x\r\n"));
    assertThat(serverFirst.atLoss()).isNull();
    assertThat(new Http1Exchanges(1024).atLoss()).as("nothing carried yet").isNull();
  }

  @Test
  void requestsLargerThanWhatIsKept_areAnswered503EvenIfIdempotent() {
    Http1Exchanges small = new Http1Exchanges(100);
    small.clientSent(buf("PUT /f HTTP/1.1\r\nContent-Length: 200\r\n\r\n" + "x".repeat(200)));
    assertThat(small.atLoss()).isInstanceOf(Unavailable.class);
    small.serverSent(buf("HTTP/1.1 204 No Content\r\n\r\n"));
    assertThat(small.atLoss()).isInstanceOf(Idle.class);
    small.clientSent(buf(GET));
    assertThat(small.atLoss()).as("keeping starts again once nothing is outstanding").isInstanceOf(Resend.class);
  }

  @Test
  void aRequestWhoseHeadIsIncomplete_isSentAgainWhateverItsMethod() {
    client(GET);
    server(OK);
    client("POST /orders HT");
    assertThat(resent()).isEqualTo("POST /orders HT");
    Http1Exchanges headers = new Http1Exchanges(1024);
    headers.clientSent(buf("POST /orders HTTP/1.1\r\nContent-"));
    assertThat(headers.atLoss()).isInstanceOf(Resend.class);
  }

  @Test
  void untilTheFirstLineIsComplete_nothingIsDecided_andAnEchoOfItIsNoAnswer() {
    client("before;");
    assertThat(http.atLoss()).as("a first line not complete yet: the generic rule").isNull();
    server("before;"); // an echo server: no HTTP server speaks before the request line is complete
    client("after\r\n");
    assertThat(http.isHttp()).isFalse();
    assertThat(http.atLoss()).isNull();
  }

  @Test
  void afterAResend_theRequestsAreReadAgainAsTheNewInstanceGetsThem() {
    client(GET);
    Resend resend = (Resend) http.atLoss();
    http.resent();
    http.clientSent(Unpooled.wrappedBuffer(resend.requests()));
    assertThat(resent()).isEqualTo(GET);
    server(OK);
    assertThat(http.atLoss()).isInstanceOf(Idle.class);
  }

  @Test
  void anAnswerBeforeTheWholeRequest_leavesTheRestOfItUnhidable() {
    client("PUT /f HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    server("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n");
    client("defg");
    assertThat(http.atLoss()).isInstanceOf(Unhidable.class);
  }

  @Test
  void anAbsurdHead_makesTheConnectionOpaque_withoutKeepingIt() {
    client("GET /" + "a".repeat(Http1Exchanges.MAX_LINE + 10) + " HTTP/1.1\r\n\r\n");
    assertThat(http.isHttp()).isFalse();
    assertThat(http.atLoss()).isNull();
  }

  /** The same exchanges fed in pieces of any size give the same verdicts. */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 7, 13})
  void piecesOfAnySize(int piece) {
    String requests = GET + "PUT /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + GET;
    String answers = OK + "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    for (int i = 0; i < requests.length(); i += piece) {
      client(requests.substring(i, Math.min(requests.length(), i + piece)));
    }
    for (int i = 0; i < answers.length(); i += piece) {
      server(answers.substring(i, Math.min(answers.length(), i + piece)));
    }
    assertThat(resent()).isEqualTo(GET);
  }

  private String resent() {
    AtLoss verdict = http.atLoss();
    assertThat(verdict).isInstanceOf(Resend.class);
    return new String(((Resend) verdict).requests(), StandardCharsets.ISO_8859_1);
  }

  private void client(String bytes) {
    http.clientSent(buf(bytes));
  }

  private void server(String bytes) {
    http.serverSent(buf(bytes));
  }

  private static io.netty.buffer.ByteBuf buf(String text) {
    return Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.ISO_8859_1));
  }
}

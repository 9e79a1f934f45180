package dev.armor.execution;

import org.apache.pekko.actor.testkit.typed.internal.CapturingAppender;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.BeforeTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Keeps a test's log quiet unless it fails: logback-test.xml sends every event to Pekko's CapturingAppender, and
 * this prints the captured events of a failed test and drops those of a passing one. (A copy of the elements
 * module's test helper, which is not on this module's test class path.)
 */
public final class LogCapture implements BeforeTestExecutionCallback, AfterTestExecutionCallback {

  private final CapturingAppender appender = CapturingAppender.get("");

  @Override
  public void beforeTestExecution(ExtensionContext context) {
    appender.clear();
  }

  @Override
  public void afterTestExecution(ExtensionContext context) {
    if (context.getExecutionException().isPresent()) {
      System.out.println("--- log of failed test " + context.getDisplayName() + " ---");
      appender.flush();
    }
    appender.clear();
  }
}

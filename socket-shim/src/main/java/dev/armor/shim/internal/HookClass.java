package dev.armor.shim.internal;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;

/**
 * {@code sun.nio.ch.ArmorShimHooks}: a class with one public static volatile {@code MethodHandle} field per {@link
 * HookPoint} and nothing else, written here and defined in the boot loader inside {@code sun.nio.ch}, where the
 * advice inlined into {@code java.base} can see it. Its only types are JDK types, so it drags nothing of the shim
 * into {@code java.base}; the handles point into the shim's own class loader.
 *
 * <p>A JVM can hold one: a second shim (another copy of the agent jar) finds it defined and stays out.
 */
final class HookClass {
  static final String NAME = "sun.nio.ch.ArmorShimHooks";

  private HookClass() {}

  /**
   * Defines the hook class.
   *
   * @throws IllegalStateException another Armor shim already defined it in this JVM
   */
  static Class<?> define(JdkInternals jdk) throws ReflectiveOperationException {
    if (isDefined()) {
      throw new IllegalStateException("another Armor socket shim is already installed in this JVM");
    }
    return jdk.defineInSunNioCh(bytes());
  }

  /** Points the hook {@code point} at {@code handle}, whose type must be exactly the hook's. */
  static void set(Class<?> hooks, HookPoint point, MethodHandle handle) throws ReflectiveOperationException {
    if (!handle.type().equals(point.type())) {
      throw new IllegalArgumentException(point + " must have type " + point.type() + ", but was " + handle.type());
    }
    field(hooks, point).set(null, handle);
  }

  static Field field(Class<?> hooks, HookPoint point) throws NoSuchFieldException {
    return hooks.getField(point.name());
  }

  /** True when a shim already defined the hook class in this JVM. */
  static boolean isDefined() {
    try {
      JdkInternals.bootClass(NAME);
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  /**
   * The class file, written with the ASM that Byte Buddy carries: a public final class with no methods (it is
   * never instantiated) and one field per hook. Plain ASM rather than Byte Buddy's own {@code subclass()}, which
   * loads about a thousand classes more and doubled the agent's start time.
   */
  private static byte[] bytes() {
    ClassWriter writer = new ClassWriter(0);
    writer.visit(Opcodes.V11, Opcodes.ACC_PUBLIC | Opcodes.ACC_FINAL | Opcodes.ACC_SUPER,
        NAME.replace('.', '/'), null, "java/lang/Object", null);
    for (HookPoint point : HookPoint.values()) {
      writer.visitField(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC | Opcodes.ACC_VOLATILE, point.name(),
          Type.getDescriptor(MethodHandle.class), null, null).visitEnd();
    }
    writer.visitEnd();
    return writer.toByteArray();
  }

}

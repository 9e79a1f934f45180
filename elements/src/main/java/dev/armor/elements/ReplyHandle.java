package dev.armor.elements;

import com.google.protobuf.Message;

/** A reply an element promised to send later ({@link ElementContext#deferReply()}). */
public interface ReplyHandle {

  void complete(Message payload);

  void fail(String error);
}

"""A two-step diagram whose first step escalates after a few seconds (a BPMN timer boundary event)."""

from __future__ import annotations

from typing import Any

ROLES = frozenset({"clerk", "leader", "head", "specialist", "legal"})

TIMER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_timer"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="Collab_timer">
    <bpmn:participant id="Part_timer" processRef="timer_test" /></bpmn:collaboration>
  <bpmn:process id="timer_test" isExecutable="true">
    <bpmn:laneSet id="LaneSet_timer">
      <bpmn:lane id="Lane_clerk" name="clerk">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>wait</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>late</bpmn:flowNodeRef><bpmn:flowNodeRef>escalate</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef><bpmn:flowNodeRef>done_late</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="wait" name="Xử lý trong hạn">
      <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formKey" value="note" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="late" name="Quá {seconds} giây" attachedToRef="wait"><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT{seconds}S"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="escalate" name="Xử lý việc quá hạn">
      <bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formKey" value="note" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="done_late"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="done" />
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="escalate" />
    <bpmn:sequenceFlow id="f4" sourceRef="escalate" targetRef="done_late" />
  </bpmn:process>
</bpmn:definitions>
"""


def publish_timer_process(agency_id: int, seconds: int) -> Any:
    from app.workflow.services import publish_version

    return publish_version(agency_id, "timer_test", TIMER_BPMN.replace("{seconds}", str(seconds)), by_user_id=None,
                           note="", known_roles=ROLES, known_forms=None, known_operations=frozenset())

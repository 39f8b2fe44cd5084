"""北碚电商政策助手: grounded answers and exact subsidy amounts for 北碚府发〔2019〕75号.

`PolicyAssistant` is imported lazily so `policy-assistant calc` and `clauses` start without Chroma.
"""

__all__ = ["PolicyAssistant"]


def __getattr__(name: str):
    if name == "PolicyAssistant":
        from assistant.assistant import PolicyAssistant

        return PolicyAssistant
    raise AttributeError(name)
